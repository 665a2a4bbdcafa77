import ArgumentParser
import Foundation

/// Ends a command the way `bosh` does on failure: the message, then `Exit code 1`, on standard error.
struct CommandFailure: Error {
    var message: String

    func report() -> ExitCode {
        FileHandle.standardError.write(Data((message + "\n\nExit code 1\n").utf8))
        return ExitCode(1)
    }
}
