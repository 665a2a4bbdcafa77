import Director
import Foundation

exit(await DirectorCommand.main(arguments: Array(CommandLine.arguments.dropFirst())))
