import BosunCLI

BosunCommand.run(arguments: Array(CommandLine.arguments.dropFirst()))
