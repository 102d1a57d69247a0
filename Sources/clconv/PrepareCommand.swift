import ArgumentParser
import ConvCL
import Foundation

struct PrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Builds every program ConvCL's operations can use on a device, into the program cache.",
        discussion: """
            For an installer or a container image: after this, a process on the same device and \
            driver, with the same cache directory (CONVCL_CACHE_DIR, else $XDG_CACHE_HOME/convcl, \
            else ~/.cache/convcl), builds nothing. Programs build in two processes at once (PoCL \
            compiles one program at a time per process).
            """
    )

    @Option(help: "The OpenCL device: an index, cpu, gpu or a name substring (the CONVCL_DEVICE forms). Default: automatic.")
    var device: String?

    func run() throws {
        let backend = try OpenCLBackend(device: device.map(DeviceSelector.init) ?? .automatic)
        guard let directory = backend.cacheDirectory else {
            throw InputError("the program cache is off (CONVCL_CACHE_DIR is empty): there is nowhere to keep the programs")
        }
        let start = Date()
        let count = try backend.prepareAll()
        let statistics = backend.statistics
        print(
            "\(backend.name): \(count) programs ready in \(directory.path) (\(statistics.programsBuiltFromSource) built, "
                + "\(statistics.programsLoadedFromCache) already cached) in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
    }
}
