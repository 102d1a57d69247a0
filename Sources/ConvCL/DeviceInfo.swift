/// The properties of an OpenCL device, as the driver reports them.
public struct DeviceInfo: Sendable, Hashable, CustomStringConvertible {
    /// What kind of processor the device is.
    public enum Kind: String, Sendable, Hashable {
        case gpu, cpu, accelerator, other
    }

    /// The device's position in `Devices.list()`: platforms in the ICD loader's order, then
    /// each platform's devices in its order. `CONVCL_DEVICE=2` selects index 2.
    public let index: Int
    public let platformName: String
    public let platformVersion: String
    public let name: String
    public let vendor: String
    public let kind: Kind
    /// `CL_DEVICE_VERSION`, e.g. "OpenCL 3.0 PoCL ...".
    public let deviceVersion: String
    /// `CL_DRIVER_VERSION`; part of the program cache key.
    public let driverVersion: String
    /// `CL_DEVICE_OPENCL_C_VERSION`, e.g. "OpenCL C 1.2 PoCL".
    public let openCLCVersion: String
    public let computeUnits: Int
    public let globalMemoryBytes: Int
    public let localMemoryBytes: Int
    /// The cache in front of global memory (`CL_DEVICE_GLOBAL_MEM_CACHE_SIZE`): on PoCL, the
    /// CPU's last-level cache.
    public let globalMemoryCacheBytes: Int
    /// The largest single buffer the device can allocate (`CL_DEVICE_MAX_MEM_ALLOC_SIZE`).
    public let maxAllocationBytes: Int
    public let maxWorkGroupSize: Int
    /// The float vector width the driver prefers (`CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT`): on a
    /// CPU, the SIMD width (8 with AVX2, 16 with AVX-512).
    public let preferredFloatVectorWidth: Int
    public let extensions: [String]
    /// Whether the device supports half precision (`cl_khr_fp16`).
    public let supportsFP16: Bool
    /// Whether the device supports double precision (`cl_khr_fp64` or a non-zero FP64 config).
    public let supportsFP64: Bool

    /// The OpenCL version the device supports, as (major, minor), read from `deviceVersion`.
    public var openCLVersion: (major: Int, minor: Int) {
        // The format is fixed by the specification: "OpenCL <major>.<minor> <vendor text>".
        let number = deviceVersion.split(separator: " ").dropFirst().first ?? ""
        let parts = number.split(separator: ".").compactMap { Int($0) }
        return (parts.first ?? 1, parts.dropFirst().first ?? 0)
    }

    public var description: String {
        "#\(index) \(name) (\(kind.rawValue), \(platformName))"
    }

    /// A multi-line summary of every property, for `clconv devices`.
    public var details: String {
        func mib(_ bytes: Int) -> String { "\(bytes / (1 << 20)) MiB" }
        return """
            #\(index) \(name)
              platform:           \(platformName) (\(platformVersion))
              vendor:             \(vendor)
              type:               \(kind.rawValue)
              version:            \(deviceVersion); \(openCLCVersion); driver \(driverVersion)
              compute units:      \(computeUnits)
              global memory:      \(mib(globalMemoryBytes))
              local memory:       \(localMemoryBytes / 1024) KiB
              global mem cache:   \(globalMemoryCacheBytes / 1024) KiB
              max allocation:     \(mib(maxAllocationBytes))
              max work-group:     \(maxWorkGroupSize)
              float vector width: \(preferredFloatVectorWidth)
              fp16 / fp64:        \(supportsFP16 ? "yes" : "no") / \(supportsFP64 ? "yes" : "no")
              extensions:         \(extensions.joined(separator: " "))
            """
    }
}
