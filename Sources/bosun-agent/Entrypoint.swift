import Agent
import Foundation

exit(await AgentCommand.main(arguments: Array(CommandLine.arguments.dropFirst())))
