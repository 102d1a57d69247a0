import ArgumentParser
import ConvCL
import Foundation

/// The build helper's command (see `OpenCLBackend.buildHelper`): not for users, so not listed.
struct BuildProgramsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build-programs",
        abstract: "Builds the programs of a job folder into the program cache (ConvCL's build helper).",
        shouldDisplay: false
    )

    @Argument(help: "The job folder a ConvCL backend wrote.")
    var folder: String

    func run() throws {
        try OpenCLBackend.runBuildJobs(in: URL(fileURLWithPath: folder))
    }
}
