import ArgumentParser
import ConvCL
import Foundation

/// `clconv transcribe`: a WAV recording to notes with Basic Pitch.
struct TranscribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcribe",
        abstract: "Transcribes a WAV recording to notes with Spotify's Basic Pitch: MIDI, CSV and a piano-roll PNG.",
        discussion: """
            WAV files of 8-, 16-, 24- or 32-bit PCM or 32- or 64-bit float, any channel count (mixed \
            down) and any sample rate (resampled to 22050 Hz). The model is Basic Pitch's nmp.onnx \
            (from the basic-pitch wheel on PyPI; ci/fetch-basic-pitch.sh fetches it). Without an \
            output file, the notes are printed as CSV.
            """)

    @Argument(help: "The WAV file.")
    var input: String

    @Option(help: ArgumentHelp("Basic Pitch's nmp.onnx. Default: $CONVCL_BASIC_PITCH_MODEL.", valueName: "path"))
    var model: String?

    @Option(help: ArgumentHelp("Writes a Standard MIDI File.", valueName: "path"))
    var midi: String?

    @Option(help: ArgumentHelp("Writes the notes as CSV (Basic Pitch's columns).", valueName: "path"))
    var csv: String?

    @Option(help: ArgumentHelp("Writes a PNG of the piano roll over the note posteriorgram.", valueName: "path"))
    var png: String?

    @Option(help: ArgumentHelp("Writes the note posteriorgram (frames × 88 keys, float32) as .npy.", valueName: "path"))
    var posteriorgram: String?

    @Option(help: "An onset's least likelihood to start a note.")
    var onsetThreshold = 0.5

    @Option(help: "A frame's least note likelihood to keep a note sounding.")
    var frameThreshold = 0.3

    @Option(name: .customLong("min-note-ms"), help: "Notes this long or shorter are dropped.")
    var minimumNoteMilliseconds = 127.70

    @Option(name: .customLong("min-hz"), help: "Ignores keys below this frequency.")
    var minimumFrequency: Double?

    @Option(name: .customLong("max-hz"), help: "Ignores keys above this frequency.")
    var maximumFrequency: Double?

    @Flag(help: "No pitch bends from the contour output.")
    var noPitchBends = false

    @Flag(help: "No notes from the energy left after the onsets (Basic Pitch's melodia trick).")
    var noMelodiaTrick = false

    @Option(help: "Windows (2 s each) run through the model at a time.")
    var batch = 4

    @OptionGroup var device: DeviceOption

    func run() throws {
        guard let modelPath = model ?? ProcessInfo.processInfo.environment["CONVCL_BASIC_PITCH_MODEL"], !modelPath.isEmpty else {
            throw ValidationError("no model: pass --model PATH to Basic Pitch's nmp.onnx or set CONVCL_BASIC_PITCH_MODEL (ci/fetch-basic-pitch.sh fetches it)")
        }
        var options = TranscriptionOptions()
        options.onsetThreshold = onsetThreshold
        options.frameThreshold = frameThreshold
        options.minimumNoteMilliseconds = minimumNoteMilliseconds
        options.minimumFrequency = minimumFrequency
        options.maximumFrequency = maximumFrequency
        options.pitchBends = !noPitchBends
        options.melodiaTrick = !noMelodiaTrick
        options.windowsPerBatch = batch
        let outputs = [midi, csv, png, posteriorgram].compactMap { $0 }
        guard Set(outputs).count == outputs.count else { throw ValidationError("--midi, --csv, --png and --posteriorgram must name different files") }
        for path in outputs + [input] where path.isEmpty { throw ValidationError("an empty path was given") }

        // Bad input fails before the model loads.
        try options.validate()
        let reader = try WAVReader(contentsOf: URL(fileURLWithPath: input))
        let modelURL = URL(fileURLWithPath: modelPath)
        guard FileManager.default.isReadableFile(atPath: modelPath) else { throw InputError("\(modelPath): cannot be read (the Basic Pitch model)") }
        let transcriber = try Transcriber(contentsOf: modelURL, backend: device.backend(), options: options)
        let bar = ProgressBar(label: URL(fileURLWithPath: input).lastPathComponent)
        let transcription = try transcriber.transcribe(reader) { bar.show(done: $0, total: $1) }
        bar.finish()

        // Everything is written to temporary names first, then renamed, so a failure leaves nothing.
        var written: [(temporary: String, path: String)] = []
        defer { for file in written { try? FileManager.default.removeItem(atPath: file.temporary) } }
        func temporary(for path: String) -> String {
            let url = URL(fileURLWithPath: path)
            let name = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp").path
            written.append((name, path))
            return name
        }
        func stage(_ bytes: [UInt8], as path: String) throws {
            do { try Data(bytes).write(to: URL(fileURLWithPath: temporary(for: path))) } catch {
                throw InputError("\(path): cannot be written: \(error.localizedDescription)")
            }
        }
        if let midi { try stage(NoteFiles.midi(transcription.notes), as: midi) }
        if let csv { try stage(Array(NoteFiles.csv(transcription.notes).utf8), as: csv) }
        if let png { try stage(PianoRoll(transcription).image().png(), as: png) }
        if let posteriorgram {
            let grid = transcription.posteriorgram
            try NPY.write(NPYArray(shape: [grid.frameCount, Posteriorgram.keyCount], float32: grid.note), path: temporary(for: posteriorgram))
        }
        for file in written where rename(file.temporary, file.path) != 0 {
            throw InputError("\(file.path): cannot be written: \(String(cString: strerror(errno)))")
        }
        if outputs.isEmpty { print(NoteFiles.csv(transcription.notes), terminator: "") }
        let summary = "\(input): \(transcription.notes.count) notes in \(String(format: "%.2f", transcription.duration)) s"
        FileHandle.standardError.write(Data((summary + (outputs.isEmpty ? "" : " → " + outputs.joined(separator: ", ")) + "\n").utf8))
    }
}

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
final class ProgressBar {
    private let label: String, unit: String
    private let enabled = isatty(STDERR_FILENO) == 1
    private var drawn = false

    init(label: String, unit: String = "windows") {
        self.label = label
        self.unit = unit
    }

    func show(done: Int, total: Int) {
        guard enabled, total > 0 else { return }
        let width = 30, filled = width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(done)/\(total) \(unit)".utf8))
        drawn = true
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
