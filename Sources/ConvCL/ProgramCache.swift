import Foundation

/// The on-disk cache of built program binaries, so that a second process compiles nothing.
///
/// An entry is keyed by device name, vendor, driver and platform version, the SHA-256 of the kernel
/// source and the build options. Its file holds the full key and a SHA-256 of the binary: a
/// truncated, corrupt or colliding entry fails the check and is rebuilt, never trusted. Writes go to
/// a temporary file renamed into place, so two processes building at once never leave a broken
/// entry. A directory that cannot be created or written just means no caching.
struct ProgramCache: Sendable {
    /// Where the cache lives; nil when caching is off.
    let directory: URL?

    /// The result of looking an entry up.
    enum Lookup {
        case hit([UInt8])
        case miss
        /// The entry exists but failed its checks (the reason says which); it will be rebuilt.
        case corrupt(String)
    }

    private static let magic = Array("CONVCL-PROGRAM-CACHE-1\n".utf8)

    /// The directory from the environment: `CONVCL_CACHE_DIR` (an empty value disables the cache),
    /// else `$XDG_CACHE_HOME/convcl`, else `~/.cache/convcl`.
    static func directoryFromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        if let explicit = environment["CONVCL_CACHE_DIR"] {
            return explicit.isEmpty ? nil : URL(fileURLWithPath: explicit)
        }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("convcl")
        }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/convcl")
    }

    /// A cache in `directory`, created if missing; caching is off if it cannot be created.
    init(directory: URL?) {
        guard let directory else {
            self.directory = nil
            return
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            self.directory = directory
        } catch {
            self.directory = nil
        }
    }

    /// The text that identifies a build: everything the binary depends on.
    static func key(device: DeviceInfo, source: String, options: String) -> String {
        """
        device: \(device.name)
        vendor: \(device.vendor)
        driver: \(device.driverVersion)
        platform: \(device.platformName) \(device.platformVersion)
        source-sha256: \(SHA256.hex(Array(source.utf8)))
        options: \(options)
        """
    }

    private func fileURL(forKey key: String) -> URL? {
        directory?.appendingPathComponent(SHA256.hex(Array(key.utf8)) + ".bin")
    }

    /// Whether there is an entry for `key` (not checked: `load` checks it).
    func contains(key: String) -> Bool {
        fileURL(forKey: key).map { FileManager.default.fileExists(atPath: $0.path) } ?? false
    }

    func load(key: String) -> Lookup {
        guard let url = fileURL(forKey: key),
            let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int
        else { return .miss }
        // An empty entry is settled before reading: Foundation's read of an empty file leaks a page.
        guard size > 0 else { return .corrupt("empty entry \(url.path)") }
        guard let data = FileManager.default.contents(atPath: url.path) else { return .miss }
        var reader = ByteReader(bytes: [UInt8](data))
        guard reader.take(Self.magic.count) == Self.magic else { return .corrupt("bad header in \(url.path)") }
        guard let keyLength = reader.takeLength(), let storedKey = reader.take(keyLength) else {
            return .corrupt("truncated key in \(url.path)")
        }
        guard storedKey == Array(key.utf8) else { return .corrupt("key mismatch in \(url.path)") }
        guard let digest = reader.take(32), let binaryLength = reader.takeLength(),
            let binary = reader.take(binaryLength), reader.isAtEnd
        else { return .corrupt("truncated or overlong binary in \(url.path)") }
        guard SHA256.digest(binary) == digest else { return .corrupt("checksum mismatch in \(url.path)") }
        return .hit(binary)
    }

    /// Stores a binary; returns whether it was written (a read-only directory is not an error).
    @discardableResult
    func store(key: String, binary: [UInt8]) -> Bool {
        guard let directory, let url = fileURL(forKey: key) else { return false }
        var bytes = Self.magic
        let keyBytes = Array(key.utf8)
        bytes += Self.lengthBytes(keyBytes.count) + keyBytes
        bytes += SHA256.digest(binary) + Self.lengthBytes(binary.count) + binary
        let temporary = directory.appendingPathComponent(
            ".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).\(UInt64.random(in: 0...UInt64.max)).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(bytes)) else { return false }
        // rename(2) replaces the target atomically: readers see the old entry or the new one.
        if rename(temporary.path, url.path) != 0 {
            try? FileManager.default.removeItem(at: temporary)
            return false
        }
        return true
    }

    // MARK: Claims: one build of a program at a time across processes

    /// The claim file of `key`: the claiming process's id.
    func claimURL(forKey key: String) -> URL? {
        directory?.appendingPathComponent(SHA256.hex(Array(key.utf8)) + ".claim")
    }

    /// Marks `key` as being built by this process; false when another live process holds the
    /// claim (or there is no cache). A claim whose process has exited, or older than
    /// `claimSeconds`, is taken over.
    func claim(key: String) -> Bool {
        guard let url = claimURL(forKey: key) else { return false }
        for _ in 0..<2 {
            let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if descriptor >= 0 {
                let text = "\(getpid())\n"
                _ = text.withCString { write(descriptor, $0, strlen($0)) }
                close(descriptor)
                return true
            }
            guard errno == EEXIST, !isClaimed(key: key) else { return false }
            unlink(url.path)
        }
        return false
    }

    /// Drops this process's claim on `key`.
    func release(key: String) {
        guard let url = claimURL(forKey: key) else { return }
        unlink(url.path)
    }

    /// How long a claim holds at most: longer than any build.
    static let claimSeconds = 300.0

    /// Whether another live process is building `key` (see `claim`).
    func isClaimed(key: String) -> Bool {
        guard let url = claimURL(forKey: key),
            let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
            let modified = attributes[.modificationDate] as? Date, -modified.timeIntervalSinceNow < Self.claimSeconds,
            let text = try? String(contentsOf: url, encoding: .utf8),
            let owner = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return false }
        return owner != getpid() && (kill(owner, 0) == 0 || errno == EPERM)
    }

    /// Waits while another process builds `key`: until its entry appears, its claim is dropped
    /// or its process exits.
    func waitForOtherBuild(key: String) {
        while isClaimed(key: key), !contains(key: key) { usleep(10_000) }
    }

    private static func lengthBytes(_ value: Int) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: UInt64(value) >> (8 * UInt64($0))) }
    }

    /// Reads the fields of an entry, failing softly on anything short.
    private struct ByteReader {
        let bytes: [UInt8]
        var position = 0

        var isAtEnd: Bool { position == bytes.count }

        mutating func take(_ count: Int) -> [UInt8]? {
            guard count >= 0, count <= bytes.count - position else { return nil }
            defer { position += count }
            return Array(bytes[position..<position + count])
        }

        mutating func takeLength() -> Int? {
            guard let raw = take(8) else { return nil }
            let value = raw.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            return value <= UInt64(Int.max) ? Int(value) : nil
        }
    }
}
