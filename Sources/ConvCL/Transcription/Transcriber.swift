import Foundation

/// A note found in a recording.
public struct NoteEvent: Sendable, Hashable {
    /// Start, in seconds.
    public var start: Double
    /// End, in seconds.
    public var end: Double
    /// MIDI note number (21 to 108).
    public var pitch: Int
    /// Mean note likelihood over the note's frames, in [0, 1] (MIDI velocity is 127 times it).
    public var amplitude: Double
    /// Pitch deviations in thirds of a semitone, one per frame, evenly spaced from `start` to
    /// `end`; nil when not estimated.
    public var pitchBends: [Int]?

    /// A note from `start` to `end` seconds at MIDI `pitch`.
    public init(start: Double, end: Double, pitch: Int, amplitude: Double, pitchBends: [Int]? = nil) {
        self.start = start
        self.end = end
        self.pitch = pitch
        self.amplitude = amplitude
        self.pitchBends = pitchBends
    }

    /// MIDI velocity: 127 times the amplitude, rounded half to even (as NumPy rounds).
    public var velocity: Int { min(127, max(0, Int((127 * amplitude).rounded(.toNearestOrEven)))) }
}

/// How notes are made from the posteriorgram; the defaults are Basic Pitch's.
public struct TranscriptionOptions: Sendable, Hashable {
    /// An onset's least likelihood (at a local maximum in time) to start a note.
    public var onsetThreshold = 0.5
    /// A frame's least note likelihood to keep a note sounding.
    public var frameThreshold = 0.3
    /// Notes this long or shorter are dropped (127.70 ms: 11 frames).
    public var minimumNoteMilliseconds = 127.70
    /// Keys below this frequency are ignored; nil: none.
    public var minimumFrequency: Double?
    /// Keys above this frequency are ignored; nil: none.
    public var maximumFrequency: Double?
    /// Adds onsets where the note likelihood rises sharply.
    public var inferOnsets = true
    /// After the onsets, also makes notes from the strongest remaining note energy.
    public var melodiaTrick = true
    /// Estimates pitch bends from the contour output (keeps the contour in the posteriorgram).
    public var pitchBends = true
    /// Windows run through the model at a time.
    public var windowsPerBatch = 4

    /// Basic Pitch's defaults.
    public init() {}

    /// Checks every option's range.
    /// - Throws: `ConvCLError.invalidArgument` naming the option and its value.
    public func validate() throws {
        for (name, value) in [("onsetThreshold", onsetThreshold), ("frameThreshold", frameThreshold)]
        where !(0...1).contains(value) {
            throw Self.invalid(name, "\(value) is outside [0, 1]")
        }
        guard minimumNoteMilliseconds >= 0, minimumNoteMilliseconds.isFinite else {
            throw Self.invalid("minimumNoteMilliseconds", "\(minimumNoteMilliseconds) is negative or not finite")
        }
        for (name, value) in [("minimumFrequency", minimumFrequency), ("maximumFrequency", maximumFrequency)] {
            if let value, !(value > 0 && value.isFinite) { throw Self.invalid(name, "\(value) Hz is not a positive frequency") }
        }
        if let low = minimumFrequency, let high = maximumFrequency, low >= high {
            throw Self.invalid("minimumFrequency", "\(low) Hz is not below maximumFrequency \(high) Hz")
        }
        guard (1...64).contains(windowsPerBatch) else {
            throw Self.invalid("windowsPerBatch", "\(windowsPerBatch) is outside 1 to 64")
        }
    }

    private static func invalid(_ argument: String, _ reason: String) -> ConvCLError {
        .invalidArgument(operation: "Transcriber", argument: argument, reason: reason)
    }

    /// The minimum note length in frames, as Basic Pitch rounds it.
    public var minimumNoteFrames: Int {
        Int((minimumNoteMilliseconds / 1000 * (Double(Transcriber.sampleRate) / Double(Transcriber.frameHop))).rounded(.toNearestOrEven))
    }
}

/// A recording's posteriorgram and the notes made from it.
public struct Transcription: Sendable {
    /// The model's outputs, stitched over the whole recording.
    public let posteriorgram: Posteriorgram
    /// The notes in time order (by start, then pitch).
    public let notes: [NoteEvent]
    /// The recording's length in seconds (at 22050 Hz).
    public let duration: Double
}

/// Audio to notes with Spotify's Basic Pitch (its ONNX model, `nmp.onnx`): the audio resampled to
/// 22050 Hz, cut into windows of 43844 samples that overlap by 30 frames, run through the model a
/// batch at a time, the overlaps trimmed and the outputs stitched, then notes made as Basic Pitch
/// makes them (`TranscriptionOptions`). Audio is streamed: memory holds one batch of windows and
/// the stitched posteriorgram, not the whole recording's windows.
public final class Transcriber {
    /// The model's sample rate.
    public static let sampleRate = 22050
    /// Samples per model window.
    public static let windowSamples = 43844
    /// Samples per frame.
    public static let frameHop = 256
    /// Frames per window in the model's output.
    public static let modelFrames = 172
    /// Frames two neighbouring windows share.
    public static let overlapFrames = 30
    /// Samples from one window's start to the next.
    public static let windowHop = windowSamples - overlapFrames * frameHop
    /// Frames each window contributes after the overlaps are trimmed.
    public static let framesPerWindow = modelFrames - overlapFrames

    static let inputName = "serving_default_input_2:0"
    static let noteName = "StatefulPartitionedCall:1"
    static let onsetName = "StatefulPartitionedCall:2"
    static let contourName = "StatefulPartitionedCall:0"

    /// The Basic Pitch model.
    public let model: Model
    /// How notes are made.
    public let options: TranscriptionOptions

    /// A transcriber for a loaded Basic Pitch model.
    /// - Throws: `ConvCLError.invalidArgument` when the model lacks Basic Pitch's input or outputs,
    ///   or the options are out of range.
    public init(model: Model, options: TranscriptionOptions = TranscriptionOptions()) throws {
        func fail(_ argument: String, _ reason: String) -> ConvCLError {
            .invalidArgument(operation: "Transcriber", argument: argument, reason: reason)
        }
        guard model.inputs.contains(where: { $0.name == Self.inputName }) else {
            throw fail("model", "has no input '\(Self.inputName)' (inputs: \(model.inputs.map(\.name))): not Basic Pitch's nmp.onnx")
        }
        for name in [Self.noteName, Self.onsetName, Self.contourName] where !model.outputs.contains(where: { $0.name == name }) {
            throw fail("model", "has no output '\(name)' (outputs: \(model.outputs.map(\.name))): not Basic Pitch's nmp.onnx")
        }
        try options.validate()
        self.model = model
        self.options = options
    }

    /// A transcriber that loads Basic Pitch's `nmp.onnx` from `url` onto `backend`.
    public convenience init(contentsOf url: URL, backend: any Backend, options: TranscriptionOptions = TranscriptionOptions()) throws {
        try self.init(model: Model(contentsOf: url, backend: backend), options: options)
    }

    /// Transcribes a WAV file, streaming it. `progress` is called with the windows done and the
    /// windows in all after each batch.
    public func transcribe(contentsOf url: URL, progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> Transcription {
        try transcribe(WAVReader(contentsOf: url), progress: progress)
    }

    /// Transcribes the rest of an opened WAV file, streaming it, as `transcribe(contentsOf:progress:)`.
    public func transcribe(_ reader: WAVReader, progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> Transcription {
        var resampler = try Resampler(from: reader.sampleRate, to: Self.sampleRate)
        let expected = resampler.outputCount(inputCount: reader.frameCount - reader.framesRead)
        var finished = false
        return try transcribe(expectedSamples: expected, progress: progress) {
            if finished { return [] }
            let block = try reader.read(maxFrames: 1 << 16)
            if block.isEmpty {
                finished = true
                return resampler.finish()
            }
            return resampler.process(block)
        }
    }

    /// Transcribes mono samples at `sampleRate` (resampled to 22050 Hz first when they differ).
    public func transcribe(samples: [Float], sampleRate: Int, progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> Transcription {
        var resampler = try Resampler(from: sampleRate, to: Self.sampleRate)
        let audio = resampler.process(samples) + resampler.finish()
        var given = false
        return try transcribe(expectedSamples: audio.count, progress: progress) {
            defer { given = true }
            return given ? [] : audio
        }
    }

    /// Transcribes 22050 Hz samples that `next` hands over a block at a time (empty at the end).
    func transcribe(expectedSamples: Int, progress: ((Int, Int) -> Void)?, next: () throws -> [Float]) throws -> Transcription {
        let totalWindows = Self.windowCount(samples: expectedSamples)
        var pending = [Float](repeating: 0, count: Self.leadingPadding)  // from padded sample `pendingStart` on
        var pendingStart = 0
        var sampleCount = 0
        var windowsDone = 0
        // The posteriorgram's arrays are sized once for the whole recording (its length is known
        // before the first window), rather than copied at each doubling as the windows arrive.
        var stitched = Stitched()
        let expectedFrames = totalWindows * Self.framesPerWindow
        stitched.note.reserveCapacity(expectedFrames * Posteriorgram.keyCount)
        stitched.onset.reserveCapacity(expectedFrames * Posteriorgram.keyCount)
        if options.pitchBends { stitched.contour.reserveCapacity(expectedFrames * Posteriorgram.contourBinCount) }
        var ended = false
        while !ended || windowsDone < Self.windowCount(samples: sampleCount) {
            if !ended {
                let block = try next()
                if block.isEmpty { ended = true } else {
                    pending += block
                    sampleCount += block.count
                }
            }
            // Windows whose samples have all arrived (or all windows left, at the end).
            let windows = ended ? Self.windowCount(samples: sampleCount) : Self.completeWindows(paddedSamples: pendingStart + pending.count)
            while windowsDone < windows, ended || windows - windowsDone >= options.windowsPerBatch {
                let count = min(options.windowsPerBatch, windows - windowsDone)
                var batch = [Float](repeating: 0, count: count * Self.windowSamples)
                for window in 0..<count {
                    let start = (windowsDone + window) * Self.windowHop - pendingStart
                    let available = min(Self.windowSamples, pending.count - start)
                    if available > 0 {
                        batch.replaceSubrange(window * Self.windowSamples..<window * Self.windowSamples + available, with: pending[start..<start + available])
                    }
                }
                try runBatch(batch, count: count, into: &stitched)
                windowsDone += count
                progress?(windowsDone, max(totalWindows, windowsDone))
                let drop = min(windowsDone * Self.windowHop - pendingStart, pending.count)
                pending.removeFirst(drop)
                pendingStart += drop
            }
        }
        // Basic Pitch keeps floor(samples · 86 / 22050) frames (86: its integer frame rate).
        let kept = min(Int((Double(sampleCount) * (Double(Self.sampleRate / Self.frameHop) / Double(Self.sampleRate))).rounded(.down)), stitched.note.count / Posteriorgram.keyCount)
        stitched.note.removeLast(stitched.note.count - kept * Posteriorgram.keyCount)
        stitched.onset.removeLast(stitched.onset.count - kept * Posteriorgram.keyCount)
        stitched.contour.removeLast(stitched.contour.count - (options.pitchBends ? kept * Posteriorgram.contourBinCount : 0))
        let posteriorgram = Posteriorgram(frameCount: kept, note: stitched.note, onset: stitched.onset, contour: stitched.contour)
        let notes = NoteDecoder(options: options).notes(from: posteriorgram).sorted { ($0.start, $0.pitch) < ($1.start, $1.pitch) }
        return Transcription(posteriorgram: posteriorgram, notes: notes, duration: Double(sampleCount) / Double(Self.sampleRate))
    }

    /// Silence before the recording, so that its first frame is the first window's first kept one.
    static let leadingPadding = overlapFrames / 2 * frameHop

    /// Windows Basic Pitch cuts from `samples` samples: one per hop of the padded recording.
    static func windowCount(samples: Int) -> Int {
        (samples + leadingPadding + windowHop - 1) / windowHop
    }

    /// The model's outputs as the batches come, their overlaps trimmed.
    private struct Stitched {
        var note: [Float] = [], onset: [Float] = [], contour: [Float] = []
    }

    /// Windows that lie wholly within the first `paddedSamples` samples.
    static func completeWindows(paddedSamples: Int) -> Int {
        paddedSamples < windowSamples ? 0 : (paddedSamples - windowSamples) / windowHop + 1
    }

    /// Runs `count` windows and appends their trimmed frames to `stitched`.
    private func runBatch(_ batch: [Float], count: Int, into stitched: inout Stitched) throws {
        let input = try model.backend.tensor(shape: [count, Self.windowSamples, 1], values: batch)
        let outputs = try model.run([Self.inputName: input])
        let trim = Self.overlapFrames / 2
        func append(_ name: String, bins: Int, to values: inout [Float]) throws {
            guard let tensor = outputs[name], tensor.shape == [count, Self.modelFrames, bins] else {
                throw ConvCLError.invalidArgument(
                    operation: "Transcriber", argument: "model",
                    reason: "output '\(name)' has shape \(outputs[name]?.shape ?? []), not [\(count), \(Self.modelFrames), \(bins)]: not Basic Pitch's nmp.onnx")
            }
            let all = try tensor.values()
            for window in 0..<count {
                let start = (window * Self.modelFrames + trim) * bins
                values += all[start..<start + Self.framesPerWindow * bins]
            }
        }
        try append(Self.noteName, bins: Posteriorgram.keyCount, to: &stitched.note)
        try append(Self.onsetName, bins: Posteriorgram.keyCount, to: &stitched.onset)
        if options.pitchBends {
            try append(Self.contourName, bins: Posteriorgram.contourBinCount, to: &stitched.contour)
        }
    }
}
