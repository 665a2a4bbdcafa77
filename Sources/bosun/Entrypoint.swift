import BosunCLI

await BosunCommand.run(arguments: Array(CommandLine.arguments.dropFirst()))
