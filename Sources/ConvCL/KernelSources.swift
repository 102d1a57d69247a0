import Foundation

/// Where kernel sources come from: the copies embedded at build time from `Kernels/*.cl`, or,
/// when `CONVCL_KERNEL_DIR` is set, the `.cl` files of that directory (for kernel development,
/// without rebuilding the Swift code).
enum KernelSources {
    /// The OpenCL C source of a program: `Kernels/prelude.cl` (the definitions every kernel
    /// shares), `header` (a table row's generated defines), then `Kernels/<name>.cl`, whose lines
    /// keep their numbers in compiler messages.
    static func source(named name: String, header: String = "") throws -> String {
        try file(named: "prelude") + "\n" + header + "\n#line 1\n" + file(named: name)
    }

    /// The text of `Kernels/<name>.cl`.
    private static func file(named name: String) throws -> String {
        if let directory = ProcessInfo.processInfo.environment["CONVCL_KERNEL_DIR"], !directory.isEmpty {
            let path = URL(fileURLWithPath: directory).appendingPathComponent("\(name).cl").path
            do {
                return try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConvCLError.kernelSourceUnavailable(
                    name: name, reason: "CONVCL_KERNEL_DIR is set, and \(path) cannot be read: \(error.localizedDescription)")
            }
        }
        guard let source = EmbeddedKernels.sources[name] else {
            throw ConvCLError.kernelSourceUnavailable(
                name: name, reason: "no Kernels/\(name).cl was embedded at build time")
        }
        return source
    }
}
