import ArgumentParser
import ConvCL
import Foundation

struct SoakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Long runs that check memory and device buffers stay flat: a long transcription and many training steps.",
        discussion: """
            Transcription: synthesizes a recording (--minutes of random notes and chords, a 16-bit \
            WAV in a temporary folder), transcribes it --runs times with Basic Pitch, streaming, \
            and reports resident memory less the posteriorgram the transcription returns (which \
            grows with the recording) after the first batches and after the last, the peak of \
            each run, and the device buffers before and after each run (the first run builds the \
            model's plans, which keep their folded constants; later runs must end with as many \
            buffers as the first). Training: --steps steps \
            of `clconv train`'s network and data, reporting the peak resident memory over the \
            first and the last tenth of the steps (at most 1000 each), and the device buffers \
            after the first tenth and at the end. Device buffers are counted with the reuse pool \
            emptied. Fails (exit 2) when memory grows by more than --tolerance MiB or a buffer \
            is left behind.
            """
    )

    @Option(help: "Minutes of synthesized audio to transcribe (0: no transcription).") var minutes = 60.0
    @Option(help: "Transcriptions of the recording.") var runs = 2
    @Option(help: ArgumentHelp("Basic Pitch's nmp.onnx. Default: $CONVCL_BASIC_PITCH_MODEL.", valueName: "path")) var model: String?
    @Option(help: "Training steps (0: no training).") var steps = 10_000
    @Option(help: "Examples per training step.") var batch = 32
    @Option(help: "Resident memory, in MiB, a run may grow by before the soak fails.") var tolerance = 32.0
    @Option(help: "Seed of the recording, the data and the weights.") var seed: UInt64 = 1
    @OptionGroup var device: DeviceOption

    func validate() throws {
        guard minutes >= 0, minutes.isFinite else { throw ValidationError("--minutes must be >= 0, got \(minutes)") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1, got \(runs)") }
        guard steps >= 0 else { throw ValidationError("--steps must be >= 0, got \(steps)") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        guard tolerance >= 0 else { throw ValidationError("--tolerance must be >= 0, got \(tolerance)") }
        guard minutes > 0 || steps > 0 else { throw ValidationError("nothing to run: --minutes and --steps are both 0") }
    }

    func run() throws {
        guard ProcessMemory.read() != nil else { throw RuntimeFailure("/proc/self/status has no VmRSS: resident memory cannot be measured here") }
        let modelPath = model ?? ProcessInfo.processInfo.environment["CONVCL_BASIC_PITCH_MODEL"] ?? ""
        if minutes > 0 {
            guard !modelPath.isEmpty else {
                throw ValidationError("no model: pass --model PATH to Basic Pitch's nmp.onnx or set CONVCL_BASIC_PITCH_MODEL (ci/fetch-basic-pitch.sh fetches it), or --minutes 0")
            }
            guard FileManager.default.isReadableFile(atPath: modelPath) else { throw InputError("\(modelPath): cannot be read (the Basic Pitch model)") }
        }
        var failures: [String] = []
        let backend = try device.backend()
        print("soak on \(backend.name)")
        if minutes > 0 { failures += try soakTranscription(modelPath: modelPath, backend: backend) }
        if steps > 0 { failures += try soakTraining(backend: backend) }
        guard failures.isEmpty else { throw RuntimeFailure("soak failed: " + failures.joined(separator: "; ")) }
        print("soak passed")
    }

    /// Device buffers held with the reuse pool emptied (nil on the CPU reference).
    func buffersHeld(_ backend: any Backend) -> Int? {
        guard let openCL = backend as? OpenCLBackend else { return nil }
        openCL.emptyPool()
        return openCL.liveBufferCount
    }

    func soakTranscription(modelPath: String, backend: any Backend) throws -> [String] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("convcl-soak-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let wav = folder.appendingPathComponent("recording.wav")
        let seconds = Int((minutes * 60).rounded())
        let synthesisStart = Date()
        try SoakRecording.write(to: wav, seconds: seconds, sampleRate: Transcriber.sampleRate, seed: seed)
        print(String(format: "recording: %d s synthesized in %.0f s", seconds, Date().timeIntervalSince(synthesisStart)))
        let transcriber = try Transcriber(contentsOf: URL(fileURLWithPath: modelPath), backend: backend)
        let bytesPerWindow = Transcriber.framesPerWindow * (2 * Posteriorgram.keyCount + Posteriorgram.contourBinCount) * MemoryLayout<Float>.size
        var failures: [String] = []
        var firstPeak: Double?, settled: Int?
        for run in 1...runs {
            let buffersBefore = buffersHeld(backend)
            ProcessMemory.resetPeak()
            var early: Double?, late = 0.0, series: [Double] = []  // `late` at each tenth
            let start = Date()
            let bar = ProgressBar(label: "transcription \(run)/\(runs)")
            let transcription = try transcriber.transcribe(contentsOf: wav) { done, total in
                bar.show(done: done, total: total)
                // Resident memory less the stitched posteriorgram, once the first batches have warmed up.
                guard done >= 16 * transcriber.options.windowsPerBatch || done == total, let memory = ProcessMemory.read() else { return }
                late = memory.resident - Double(done * bytesPerWindow) / 1_048_576
                if early == nil { early = late }
                if done * 10 / total > series.count { series.append(late) }
            }
            bar.finish()
            let seconds = Date().timeIntervalSince(start)
            let peak = ProcessMemory.read()?.peak ?? 0
            let notes = transcription.notes.count, duration = transcription.duration
            _ = consume transcription
            let buffersAfter = buffersHeld(backend)
            let growth = late - (early ?? late)
            print(String(
                format: "transcription %d/%d: %.0f s of audio, %d notes in %.0f s (%.0f× real time); resident less posteriorgram %.0f → %.0f MiB (%+.1f); peak %.0f MiB; device buffers %@ → %@",
                run, runs, duration, notes, seconds, duration / seconds, early ?? late, late, growth, peak,
                buffersBefore.map(String.init) ?? "-", buffersAfter.map(String.init) ?? "-"))
            print("  resident less posteriorgram at each tenth, MiB: " + series.map { String(format: "%.0f", $0) }.joined(separator: " "))
            if growth > tolerance { failures.append(String(format: "transcription %d grew by %.1f MiB beyond its posteriorgram", run, growth)) }
            if let firstPeak, peak > firstPeak + tolerance {
                failures.append(String(format: "transcription %d peaked at %.0f MiB, the first at %.0f MiB", run, peak, firstPeak))
            }
            // The first run builds the model's plans for its batch shapes (a full batch and the
            // tail), which keep their folded constants; every later run must end where it ended.
            if let settled, buffersAfter != settled {
                failures.append("transcription \(run) left \(buffersAfter ?? 0) device buffers, \(settled) after the first")
            }
            settled = settled ?? buffersAfter
            firstPeak = firstPeak ?? peak
        }
        return failures
    }

    func soakTraining(backend: any Backend) throws -> [String] {
        var dataGenerator = SeededGenerator(seed: seed)
        let samples = 1024
        let data = NoteDataset(count: min(6000, steps * batch), samples: samples, generator: &dataGenerator)  // `clconv train`'s 6000
        let network = try TrainCommand.network(filters: 24, kernel: 255, channels: 32, seed: seed, backend: backend)
        let optimizer = Adam(backend: backend, learningRate: 1e-3)
        var orderGenerator = SeededGenerator(seed: seed &+ 2)
        let window = max(1, min(1000, steps / 10))
        var order: [Int] = [], position = data.count
        var startPeak = 0.0, endPeak = 0.0, baseline: Int?
        var (lossSum, correct, counted) = (0.0, 0, 0)
        let start = Date()
        let bar = ProgressBar(label: "training", unit: "steps")
        for step in 0..<steps {
            if position + batch > data.count {
                order = Array(0..<data.count).shuffled(using: &orderGenerator)
                position = 0
            }
            let indices = order[position..<position + batch]
            position += batch
            if step == window { baseline = buffersHeld(backend) }
            if step == window || step == steps - window { ProcessMemory.resetPeak() }
            let (input, labels) = try data.batch(indices, backend: backend)
            let (loss, output) = try network.trainingStep(input, backend: backend, optimizer: optimizer) { tape, output in
                try tape.crossEntropy(output, labels: labels)
            }
            guard loss.isFinite else { throw RuntimeFailure("training step \(step + 1): the loss is \(loss)") }
            if step >= steps - window {
                lossSum += Double(loss)
                correct += zip(try TrainCommand.predictions(output), labels).filter { $0 == $1 }.count
                counted += batch
            }
            if step == 2 * window - 1 || (steps < 2 * window && step == steps - 1) { startPeak = ProcessMemory.read()?.peak ?? 0 }
            if step == steps - 1 { endPeak = ProcessMemory.read()?.peak ?? 0 }
            bar.show(done: step + 1, total: steps)
        }
        bar.finish()
        let buffersAfter = buffersHeld(backend)
        let growth = endPeak - startPeak
        print(String(
            format: "training: %d steps of %d in %.0f s; last %d steps: loss %.3f, accuracy %.1f%%; peak resident %.0f MiB (steps %d–%d) → %.0f MiB (steps %d–%d, %+.1f); device buffers %@ → %@",
            steps, batch, Date().timeIntervalSince(start), window, lossSum / Double(window), 100 * Double(correct) / Double(max(counted, 1)),
            startPeak, window + 1, 2 * window, endPeak, steps - window + 1, steps, growth,
            baseline.map(String.init) ?? "-", buffersAfter.map(String.init) ?? "-"))
        var failures: [String] = []
        if growth > tolerance { failures.append(String(format: "training's peak resident memory grew by %.1f MiB", growth)) }
        if steps > window, buffersAfter != baseline {
            failures.append("training held \(buffersAfter ?? 0) device buffers at the end, \(baseline ?? 0) after step \(window)")
        }
        return failures
    }
}

/// This process's resident memory, from /proc/self/status.
enum ProcessMemory {
    /// Resident and peak resident memory (VmRSS, VmHWM), in MiB; nil where /proc lacks them.
    static func read() -> (resident: Double, peak: Double)? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        func value(_ key: String) -> Double? {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }),
                let kilobytes = Double(line.dropFirst(key.count + 1).split(whereSeparator: \.isWhitespace).first ?? "")
            else { return nil }
            return kilobytes / 1024
        }
        guard let resident = value("VmRSS"), let peak = value("VmHWM") else { return nil }
        return (resident, peak)
    }

    /// Restarts the peak (VmHWM) from the memory resident now (Linux: 5 into /proc/self/clear_refs).
    static func resetPeak() {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return }
        handle.write(Data("5".utf8))
        try? handle.close()
    }
}

/// A long synthesized recording for the soak: random notes and chords of a few harmonics.
enum SoakRecording {
    /// Writes `seconds` of mono 16-bit audio at `sampleRate` as a WAV file, a block at a time.
    static func write(to url: URL, seconds: Int, sampleRate: Int, seed: UInt64) throws {
        let count = seconds * sampleRate
        guard FileManager.default.createFile(atPath: url.path, contents: nil), let file = FileHandle(forWritingAtPath: url.path) else {
            throw InputError("\(url.path): cannot be written")
        }
        defer { try? file.close() }
        var header = Data("RIFF".utf8)
        func append32(_ value: Int) { withUnsafeBytes(of: UInt32(value).littleEndian) { header.append(contentsOf: $0) } }
        func append16(_ value: Int) { withUnsafeBytes(of: UInt16(value).littleEndian) { header.append(contentsOf: $0) } }
        append32(36 + 2 * count)
        header.append(contentsOf: Array("WAVEfmt ".utf8))
        append32(16); append16(1); append16(1); append32(sampleRate); append32(2 * sampleRate); append16(2); append16(16)
        header.append(contentsOf: Array("data".utf8))
        append32(2 * count)
        try file.write(contentsOf: header)

        var generator = SeededGenerator(seed: seed)
        // One chord at a time: 1–3 voices, 4 harmonics each, a 10 ms attack and a decay.
        var voices: [(step: Double, phase: Double)] = []
        var chordLength = 0, chordPosition = 0, decay = 0.0
        var block = [Int16](repeating: 0, count: 1 << 16)
        var written = 0
        while written < count {
            let length = min(block.count, count - written)
            for i in 0..<length {
                if chordPosition == chordLength {
                    chordLength = Int.random(in: sampleRate / 5...sampleRate * 6 / 5, using: &generator)
                    chordPosition = 0
                    decay = Double.random(in: 1...4, using: &generator) / Double(sampleRate)
                    voices = (0..<Int.random(in: 1...3, using: &generator)).map { _ in
                        let note = Double(Int.random(in: 36...88, using: &generator))
                        return (2 * Double.pi * 440 * pow(2, (note - 69) / 12) / Double(sampleRate), 0)
                    }
                }
                let t = Double(chordPosition)
                let envelope = min(1, t / (0.01 * Double(sampleRate))) * exp(-decay * t)
                var value = 0.0
                for v in voices.indices {
                    for harmonic in 1...4 { value += sin(Double(harmonic) * voices[v].phase) / Double(harmonic) }
                    voices[v].phase += voices[v].step
                }
                block[i] = Int16((0.25 * envelope * value / Double(voices.count)).clamped(to: -1...1) * 32767).littleEndian
                chordPosition += 1
            }
            try block[0..<length].withUnsafeBytes { try file.write(contentsOf: Data($0)) }
            written += length
        }
    }
}

extension Comparable {
    func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}
