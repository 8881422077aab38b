import Agent
import Glibc

exit(ArmsdCommand.run(Array(CommandLine.arguments.dropFirst())))
