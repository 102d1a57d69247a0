import Foundation

/// A problem with an audio file: what is wrong and with which file.
public struct AudioFileError: Error, CustomStringConvertible {
    /// The file's path.
    public let path: String
    /// What is wrong with it.
    public let reason: String

    /// An error about the file at `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// How a WAV file stores its samples.
public enum WAVSampleFormat: Sendable, Hashable, CustomStringConvertible {
    /// Integer PCM of 8 (unsigned), 16, 24 or 32 bits.
    case pcm(bits: Int)
    /// IEEE floating point of 32 or 64 bits.
    case float(bits: Int)

    /// Bytes per sample of one channel.
    public var byteCount: Int {
        switch self {
        case .pcm(let bits), .float(let bits): bits / 8
        }
    }

    public var description: String {
        switch self {
        case .pcm(let bits): "\(bits)-bit PCM"
        case .float(let bits): "\(bits)-bit float"
        }
    }
}

/// Reads a RIFF/WAVE file a block at a time, mixing its channels down to mono samples in [-1, 1]:
/// 8-, 16-, 24- and 32-bit integer PCM, 32- and 64-bit float, plain or WAVE_FORMAT_EXTENSIBLE, any
/// channel count and sample rate. Memory is bounded by the block asked for, not by the file.
public final class WAVReader {
    /// The file's path.
    public let path: String
    /// Samples per second.
    public let sampleRate: Int
    /// Channels per frame (mixed down by `read`).
    public let channelCount: Int
    /// How each sample is stored.
    public let format: WAVSampleFormat
    /// Frames (one sample of every channel) in the file.
    public let frameCount: Int
    /// Frames read so far.
    public private(set) var framesRead = 0

    private let file: FileHandle

    /// Opens `url` and reads its header.
    /// - Throws: `AudioFileError` naming the file and the problem: not a WAV file, a truncated or
    ///   inconsistent chunk, an unsupported encoding, no channels, a sample rate out of range.
    public init(contentsOf url: URL) throws {
        path = url.path
        let path = url.path
        func fail(_ reason: String) -> AudioFileError { AudioFileError(path: path, reason: reason) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
            let file = FileHandle(forReadingAtPath: path)
        else { throw fail("cannot be read (no such file, or not a regular file)") }
        self.file = file
        let fileSize = Int(try file.seekToEnd())
        try file.seek(toOffset: 0)
        func bytes(_ count: Int) throws -> [UInt8] {
            let data = try file.read(upToCount: count) ?? Data()
            return [UInt8](data)
        }
        func u16(_ b: [UInt8], _ at: Int) -> Int { Int(b[at]) | Int(b[at + 1]) << 8 }
        func u32(_ b: [UInt8], _ at: Int) -> Int { u16(b, at) | u16(b, at + 2) << 16 }
        let riff = try bytes(12)
        guard riff.count == 12, riff[0..<4].elementsEqual("RIFF".utf8), riff[8..<12].elementsEqual("WAVE".utf8) else {
            throw fail("not a RIFF/WAVE file")
        }
        var position = 12
        var parsed: (channels: Int, rate: Int, format: WAVSampleFormat, blockAlign: Int)?
        while true {
            try file.seek(toOffset: UInt64(position))
            let header = try bytes(8)
            guard header.count == 8 else { throw fail("no data chunk") }
            let id = String(decoding: header[0..<4], as: UTF8.self)
            // The id as an error shows it: bytes outside printable ASCII (a newline, say) escaped.
            let shownID = header[0..<4].map { (0x20..<0x7F).contains($0) ? String(UnicodeScalar($0)) : String(format: "\\x%02x", $0) }.joined()
            let declared = u32(header, 4)
            let body = position + 8
            if id == "data" {
                guard let parsed else { throw fail("the data chunk comes before the fmt chunk") }
                // Streaming writers leave 0xFFFFFFFF (or 0) for "to the end of the file".
                let size = declared == 0xFFFF_FFFF || declared == 0 ? fileSize - body : declared
                guard size <= fileSize - body else {
                    throw fail("the data chunk declares \(declared) bytes but the file has \(fileSize - body) after its header (truncated)")
                }
                sampleRate = parsed.rate
                channelCount = parsed.channels
                format = parsed.format
                frameCount = size / parsed.blockAlign
                return
            }
            guard declared <= fileSize - body else {
                throw fail("chunk '\(shownID)' declares \(declared) bytes but the file has \(fileSize - body) (truncated)")
            }
            if id == "fmt " {
                guard declared >= 16 else { throw fail("the fmt chunk has \(declared) bytes, fewer than 16") }
                let fmt = try bytes(min(declared, 40))
                var tag = u16(fmt, 0)
                let channels = u16(fmt, 2), rate = u32(fmt, 4), blockAlign = u16(fmt, 12), bits = u16(fmt, 14)
                if tag == 0xFFFE {
                    // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID's first two bytes are the tag.
                    guard fmt.count >= 26 else { throw fail("the extensible fmt chunk has \(declared) bytes, fewer than 26") }
                    tag = u16(fmt, 24)
                }
                let format: WAVSampleFormat
                switch (tag, bits) {
                case (1, 8), (1, 16), (1, 24), (1, 32): format = .pcm(bits: bits)
                case (3, 32), (3, 64): format = .float(bits: bits)
                default:
                    let name = [1: "PCM", 3: "float", 2: "ADPCM", 6: "A-law", 7: "mu-law", 0x55: "MP3"][tag] ?? "format tag \(tag)"
                    throw fail("unsupported encoding: \(name) with \(bits) bits per sample (supported: 8-, 16-, 24- and 32-bit PCM, 32- and 64-bit float)")
                }
                guard channels > 0 else { throw fail("the fmt chunk declares no channels") }
                guard (1...768_000).contains(rate) else { throw fail("sample rate \(rate) Hz is out of range (1 to 768000)") }
                guard blockAlign == channels * format.byteCount else {
                    throw fail("block align \(blockAlign) is not \(channels) channels × \(format.byteCount) bytes")
                }
                parsed = (channels, rate, format, blockAlign)
            }
            position = body + declared + (declared & 1)  // chunks are padded to an even size
        }
    }

    deinit { try? file.close() }

    /// Reads up to `maxFrames` further frames, mixed down to mono (the mean of the channels);
    /// returns an empty array at the end of the data.
    public func read(maxFrames: Int) throws -> [Float] {
        let count = min(max(maxFrames, 0), frameCount - framesRead)
        guard count > 0 else { return [] }
        let byteCount = count * channelCount * format.byteCount
        let data: Data
        do {
            data = try file.read(upToCount: byteCount) ?? Data()
        } catch {
            throw AudioFileError(path: path, reason: "cannot be read: \(error.localizedDescription)")
        }
        guard data.count == byteCount else {
            throw AudioFileError(path: path, reason: "ended after \(framesRead) of \(frameCount) frames")
        }
        var mono = [Float](repeating: 0, count: count)
        let channels = channelCount
        let scale = 1 / Double(channels)
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            func sample(_ index: Int) -> Double {
                switch format {
                case .pcm(8): return (Double(bytes[index]) - 128) / 128
                case .pcm(16): return Double(Int16(bitPattern: UInt16(bytes[2 * index]) | UInt16(bytes[2 * index + 1]) << 8)) / 32_768
                case .pcm(24):
                    let b = 3 * index
                    let value = Int32(bitPattern: UInt32(bytes[b]) << 8 | UInt32(bytes[b + 1]) << 16 | UInt32(bytes[b + 2]) << 24) >> 8
                    return Double(value) / 8_388_608
                case .pcm(_):
                    return Double(Int32(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self).littleEndian)) / 2_147_483_648
                case .float(32):
                    return Double(Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self).littleEndian))
                case .float(_):
                    return Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self).littleEndian)
                }
            }
            for frame in 0..<count {
                var sum = 0.0
                for channel in 0..<channels { sum += sample(frame * channels + channel) }
                mono[frame] = Float(sum * scale)
            }
        }
        if let bad = mono.firstIndex(where: { !$0.isFinite }) {
            throw AudioFileError(path: path, reason: "frame \(framesRead + bad) is not a finite number")
        }
        framesRead += count
        return mono
    }

    /// Reads all of `url` as mono samples and their rate.
    public static func readMono(contentsOf url: URL) throws -> (samples: [Float], sampleRate: Int) {
        let reader = try WAVReader(contentsOf: url)
        return (try reader.read(maxFrames: reader.frameCount), reader.sampleRate)
    }
}
