import MockLS
import MockRS
