import MockCore
