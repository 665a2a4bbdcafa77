import Foundation
import LocalCPI

exit(await LocalCPICommand.main(arguments: Array(CommandLine.arguments.dropFirst())))
