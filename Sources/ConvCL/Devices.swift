import Foundation

/// Which device to use: the forms `CONVCL_DEVICE` accepts.
public enum DeviceSelector: Sendable, Hashable, CustomStringConvertible {
    /// The first GPU, else the first OpenCL device.
    case automatic
    /// The device at this position in `Devices.list()`.
    case index(Int)
    /// The first CPU device.
    case cpu
    /// The first GPU device.
    case gpu
    /// The first device whose name contains this text (case-insensitive).
    case name(String)
    /// The CPU reference backend, not an OpenCL device.
    case reference

    /// Parses the `CONVCL_DEVICE` forms: an index (`0`), `cpu`, `gpu`, `reference`, `auto` (or an
    /// empty text), or else a name substring.
    public init(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch trimmed.lowercased() {
        case "", "auto": self = .automatic
        case "cpu": self = .cpu
        case "gpu": self = .gpu
        case "reference": self = .reference
        default: self = Int(trimmed).map(DeviceSelector.index) ?? .name(trimmed)
        }
    }

    public var description: String {
        switch self {
        case .automatic: "auto"
        case .index(let index): "\(index)"
        case .cpu: "cpu"
        case .gpu: "gpu"
        case .name(let name): name
        case .reference: "reference"
        }
    }
}

/// The OpenCL devices of this machine.
public enum Devices {
    /// Every device of every platform, numbered as `DeviceSelector.index` counts them.
    /// No OpenCL platform at all gives an empty list.
    public static func list() throws -> [DeviceInfo] {
        try all().map(\.info)
    }

    static func all() throws -> [(device: CLDevice, info: DeviceInfo)] {
        var found: [(CLDevice, DeviceInfo)] = []
        for platform in try CLPlatform.all() {
            for device in try platform.devices() {
                found.append((device, try device.info(index: found.count)))
            }
        }
        return found
    }

    /// The device `selector` picks.
    /// - Throws: `ConvCLError.deviceNotFound` naming the request and the devices there are.
    static func find(_ selector: DeviceSelector) throws -> (CLDevice, DeviceInfo) {
        let devices = try all()
        func notFound(_ reason: String) -> ConvCLError {
            let available = devices.isEmpty
                ? "there are no OpenCL devices"
                : "the devices are " + devices.map { $0.info.description }.joined(separator: ", ")
            return .deviceNotFound(request: selector.description, reason: "\(reason); \(available)")
        }
        let match: (CLDevice, DeviceInfo)?
        switch selector {
        case .automatic:
            match = devices.first { $0.info.kind == .gpu } ?? devices.first
        case .index(let index):
            guard devices.indices.contains(index) else {
                throw notFound("index \(index) is out of range 0..<\(devices.count)")
            }
            match = devices[index]
        case .cpu:
            match = devices.first { $0.info.kind == .cpu }
        case .gpu:
            match = devices.first { $0.info.kind == .gpu }
        case .name(let text):
            match = devices.first { $0.info.name.localizedCaseInsensitiveContains(text) }
        case .reference:
            throw ConvCLError.deviceNotFound(
                request: "reference", reason: "the CPU reference is not an OpenCL device; use ReferenceBackend")
        }
        guard let match else { throw notFound("no device matches") }
        return match
    }
}

/// A backend chosen by `selectBackend`, and why it was chosen.
public struct BackendSelection: Sendable {
    public let backend: any Backend
    /// Why this backend: the request it answers, or why it fell back to the CPU reference.
    public let reason: String
    /// True when no OpenCL device could be used and the CPU reference stands in.
    public let isFallback: Bool
}

private let fallbackLogged = Locked(false)

/// Chooses the backend to run on.
///
/// - `request` nil reads `CONVCL_DEVICE` (unset or empty means automatic).
/// - Automatic: the first GPU, else the first OpenCL device, else the CPU reference. Falling back
///   is never silent: the reason is in the result and printed once per process on stderr.
/// - Any other request must match: an index or name that matches nothing throws
///   `ConvCLError.deviceNotFound`, it does not fall back.
public func selectBackend(_ request: DeviceSelector? = nil, cache: OpenCLBackend.CacheSetting = .environment) throws
    -> BackendSelection
{
    try selectBackend(request, cache: cache, environment: ProcessInfo.processInfo.environment)
}

func selectBackend(_ request: DeviceSelector?, cache: OpenCLBackend.CacheSetting, environment: [String: String]) throws
    -> BackendSelection
{
    let variable = environment["CONVCL_DEVICE"]
    let selector = request ?? DeviceSelector(variable ?? "")
    let origin = request == nil && variable != nil ? "CONVCL_DEVICE=\(selector)" : "requested \(selector)"
    switch selector {
    case .reference:
        return BackendSelection(backend: ReferenceBackend(), reason: "\(origin): the CPU reference", isFallback: false)
    case .automatic:
        do {
            let backend = try OpenCLBackend(device: .automatic, cache: cache)
            let why = backend.device.kind == .gpu ? "the first GPU" : "no GPU; the first OpenCL device"
            return BackendSelection(backend: backend, reason: "automatic: \(why), \(backend.device)", isFallback: false)
        } catch {
            let reason = "no usable OpenCL device (\(error)); using the CPU reference backend"
            let firstTime = fallbackLogged.withLock { logged in
                defer { logged = true }
                return !logged
            }
            if firstTime { FileHandle.standardError.write(Data("convcl: \(reason)\n".utf8)) }
            return BackendSelection(backend: ReferenceBackend(), reason: reason, isFallback: true)
        }
    default:
        let backend = try OpenCLBackend(device: selector, cache: cache)
        return BackendSelection(backend: backend, reason: "\(origin): \(backend.device)", isFallback: false)
    }
}
