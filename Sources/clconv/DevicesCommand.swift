import ArgumentParser
import ConvCL

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "Lists OpenCL platforms and devices with their properties, and which backend is the default and why."
    )

    func run() throws {
        let devices = try Devices.list()
        if devices.isEmpty { print("No OpenCL devices.") }
        for device in devices { print(device.details) }
        let selection = try selectBackend()
        print("default backend: \(selection.backend.name) — \(selection.reason)")
    }
}
