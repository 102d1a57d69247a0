import ArgumentParser
import ConvCL
import Foundation

@main
struct CLConv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clconv",
        abstract: "Runs convolutional-network layers on OpenCL devices with ConvCL.",
        discussion: """
            Exit status: 0 on success, 1 for bad usage or bad input (arguments, files, shapes), \
            2 for device or runtime failures. Errors are one line on stderr.
            """,
        subcommands: [
            DevicesCommand.self, RunCommand.self, VerifyCommand.self, BenchCommand.self, DemoCommand.self, PrepareCommand.self, ModelCommand.self, TranscribeCommand.self, TrainCommand.self, SoakCommand.self,
            BuildProgramsCommand.self,
        ]
    )

    /// Parses, runs, and turns every error into one line on stderr and the documented exit status.
    static func main() {
        // Programs build on two cores: a second clconv process builds some while this one builds
        // others (see OpenCLBackend.buildHelper).
        OpenCLBackend.buildHelper = [URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path, "build-programs"]
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            // --help and --version arrive as errors, from parsing or from a help command's run().
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if isParseError(error) { fail(message(for: error), status: 1) }
            fail(describe(error), status: exitStatus(for: error))
        }
    }

    /// Whether ArgumentParser raised the error (bad usage), rather than a command's own work.
    static func isParseError(_ error: any Error) -> Bool {
        !(error is NPYError || error is InputError || error is RuntimeFailure || error is ConvCLError
            || error is OpenCLError || error is ValidationError || error is AudioFileError)
    }

    static func fail(_ message: String, status: Int32) -> Never {
        // One line: a build log or similar multi-line detail is folded onto it.
        let line = message.split(whereSeparator: \.isNewline).joined(separator: " | ")
        FileHandle.standardError.write(Data("clconv: \(line)\n".utf8))
        Foundation.exit(status)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? ValidationError { return error.message }
        return "\(error)"
    }

    /// 1 for what the user can fix in the call or its files, 2 for the device and the runtime.
    static func exitStatus(for error: any Error) -> Int32 {
        switch error {
        case is ValidationError, is NPYError, is InputError, is AudioFileError: 1
        case ConvCLError.invalidArgument: 1
        default: 2
        }
    }
}

/// A problem with what the user passed that is not an option's syntax: a file, a format.
struct InputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A runtime failure: a device result that does not match the reference, say.
struct RuntimeFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
