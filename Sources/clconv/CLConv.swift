import ArgumentParser
import ConvCL

@main
struct CLConv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clconv",
        abstract: "Runs convolutional-network layers on OpenCL devices with ConvCL.",
        subcommands: [DevicesCommand.self, DemoCommand.self]
    )
}
