import Agent
import Foundation

// As PID 1 of a VM, the process has already split (CBosunShims' load-time constructor): a small
// init stayed behind to reap orphans, and this is the agent.
exit(await AgentCommand.main(arguments: Array(CommandLine.arguments.dropFirst())))
