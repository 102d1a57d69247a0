import Foundation
import Testing

@testable import ConvCL

/// Drives the built `clconv` binary, as a user would.
@Suite("clconv")
struct CommandLineTests {
    let directory: URL

    init() throws { directory = try temporaryDirectory() }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Writes a float32 .npy file of random values; returns them.
    @discardableResult
    func write(_ name: String, _ shape: [Int], _ random: inout TestRandom, positive: Bool = false) throws -> [Float] {
        let values = random.floats(shape.reduce(1, *)).map { positive ? abs($0) + 0.01 : $0 }
        try NPY.write(NPYArray(shape: shape, float32: values), path: path(name))
        return values
    }

    func read(_ name: String) throws -> NPYArray { try NPY.read(path: path(name)) }

    @Test("run: every operator and its options, checked against the CPU reference", .needsOpenCL)
    func runEveryOperator() throws {
        var random = TestRandom()
        try write("x2.npy", [2, 4, 11, 13], &random)
        try write("x1.npy", [2, 4, 57], &random)
        try write("w2.npy", [6, 2, 3, 2], &random)
        try write("w1.npy", [3, 4, 7], &random)
        try write("b6.npy", [6], &random)
        try write("w3.npy", [5, 4, 3, 3], &random)
        let reference = ReferenceBackend()
        func tensor(_ name: String) throws -> Tensor {
            let array = try read(name)
            return try reference.tensor(shape: array.shape, values: try array.float32Values())
        }
        let cases: [(arguments: [String], expected: () throws -> Tensor)] = [
            (["conv2d", "--input", "x2.npy", "--weight", "w2.npy", "--bias", "b6.npy", "--stride", "2,1", "--padding", "1,0,2,1",
              "--dilation", "1,2", "--groups", "2", "--mode", "convolution", "--activation", "leaky-relu", "--slope", "0.3"], {
                try reference.conv2d(try tensor("x2.npy"), weight: try tensor("w2.npy"), bias: try tensor("b6.npy"), descriptor: .init(
                    stride: [2, 1], padding: .explicit([1, 0, 2, 1]), dilation: [1, 2], groups: 2, mode: .convolution,
                    activation: .leakyReLU(slope: 0.3)))
            }),
            (["conv1d", "--input", "x1.npy", "--weight", "w1.npy", "--stride", "3", "--padding", "same-lower", "--activation", "relu"], {
                try reference.conv1d(try tensor("x1.npy"), weight: try tensor("w1.npy"), bias: nil, descriptor: .init(
                    stride: 3, padding: .sameLower, activation: .relu))
            }),
            (["maxpool2d", "--input", "x2.npy", "--kernel", "3,2", "--stride", "2,2", "--padding", "1,1,1,0", "--ceil-mode"], {
                try reference.maxPool(try tensor("x2.npy"), descriptor: .init(kernel: [3, 2], stride: [2, 2], padding: .explicit([1, 1, 1, 0]), ceilMode: true))
            }),
            (["maxpool1d", "--input", "x1.npy", "--kernel", "4", "--dilation", "2"], {
                try reference.maxPool(try tensor("x1.npy"), descriptor: .init(kernel: [4], dilation: [2]))
            }),
            (["avgpool2d", "--input", "x2.npy", "--kernel", "2,3", "--padding", "same-upper", "--count-include-pad"], {
                try reference.averagePool(try tensor("x2.npy"), descriptor: .init(kernel: [2, 3], padding: .sameUpper, countIncludePad: true))
            }),
            (["avgpool1d", "--input", "x1.npy", "--kernel", "5", "--stride", "2", "--padding", "2,2", "--ceil-mode"], {
                try reference.averagePool(try tensor("x1.npy"), descriptor: .init(kernel: [5], stride: [2], padding: .explicit([2, 2]), ceilMode: true))
            }),
            (["global-avgpool", "--input", "x2.npy"], { try reference.globalAveragePool(try tensor("x2.npy")) }),
            (["global-maxpool", "--input", "x1.npy"], { try reference.globalMaxPool(try tensor("x1.npy")) }),
            (["reduce", "--input", "x2.npy", "--op", "logsumexp", "--axes", "1,-1", "--no-keepdims"], {
                try reference.reduce(try tensor("x2.npy"), descriptor: .init(.logSumExp, axes: [1, -1], keepDims: false))
            }),
            (["reduce", "--input", "x2.npy", "--op", "l2"], { try reference.reduce(try tensor("x2.npy"), descriptor: .init(.l2)) }),
            // Negative values as a user types them, first in the list.
            (["reduce", "--input", "x2.npy", "--op", "max", "--axes", "-2,-1"], {
                try reference.reduce(try tensor("x2.npy"), descriptor: .init(.max, axes: [-2, -1]))
            }),
            (["reduce", "--input", "x2.npy", "--axes", "-1", "--op", "mean"], {
                try reference.reduce(try tensor("x2.npy"), descriptor: .init(.mean, axes: [-1]))
            }),
            (["conv1d", "--input", "x1.npy", "--weight", "w1.npy", "--activation", "leaky-relu", "--slope", "-0.5"], {
                try reference.conv1d(try tensor("x1.npy"), weight: try tensor("w1.npy"), bias: nil, descriptor: .init(
                    activation: .leakyReLU(slope: -0.5)))
            }),
        ] + ConvolutionAlgorithm.allCases.map { algorithm in
            // Each algorithm forced, on a convolution Winograd computes too.
            (["conv2d", "--input", "x2.npy", "--weight", "w3.npy", "--padding", "same-upper", "--algorithm", algorithm.rawValue], {
                try reference.conv2d(try tensor("x2.npy"), weight: try tensor("w3.npy"), bias: nil, descriptor: .init(padding: .sameUpper))
            })
        }
        for (arguments, expected) in cases {
            let run = try runCLConv(
                ["run"] + arguments.map { $0.hasSuffix(".npy") ? path($0) : $0 } + ["--output", path("y.npy"), "--device", "opencl"])
            #expect(run.status == 0, "\(arguments): \(run.stderr)")
            guard run.status == 0 else { continue }
            let result = try read("y.npy")
            let want = try expected()
            #expect(result.shape == want.shape, "\(arguments)")
            #expect(relativeL2Error(try result.float32Values(), try want.values()) <= 1e-5, "\(arguments); seed \(random.seed)")
        }

        // A forced algorithm that does not compute the convolution is refused before it runs.
        let refused = try runCLConv(["run", "conv2d", "--input", path("x2.npy"), "--weight", path("w3.npy"), "--stride", "2,2",
                                     "--algorithm", "winograd", "--output", path("z.npy"), "--device", "opencl"])
        #expect(refused.status == 1 && refused.stderr.contains("winograd computes 3×3 convolutions with stride 1"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path("z.npy")))

        // Max pooling's indices come out as int64, PyTorch's flat index per plane.
        let indices = try runCLConv(["run", "maxpool2d", "--input", path("x2.npy"), "--kernel", "2,2", "--output", path("p.npy"), "--indices", path("i.npy")])
        #expect(indices.status == 0, "\(indices.stderr)")
        let expected = try reference.maxPoolWithIndices(try tensor("x2.npy"), descriptor: .init(kernel: [2, 2]))
        #expect(try read("i.npy").int64Values() == expected.indices.int64Values())
        #expect(try read("i.npy").shape == [2, 4, 5, 6])
    }

    @Test("run --backward: a convolution's and a pooling's gradients, checked against the CPU reference; misplaced gradient options refused", .needsOpenCL)
    func runBackward() throws {
        var random = TestRandom()
        try write("x.npy", [2, 4, 11, 13], &random)
        try write("w.npy", [6, 2, 3, 2], &random)
        try write("dy.npy", [2, 6, 6, 6], &random)
        try write("dp.npy", [2, 4, 6, 7], &random)
        let reference = ReferenceBackend()
        func tensor(_ name: String) throws -> Tensor {
            let array = try read(name)
            return try reference.tensor(shape: array.shape, values: try array.float32Values())
        }
        func expectFile(_ name: String, _ want: Tensor, _ label: String) throws {
            let result = try read(name)
            #expect(result.shape == want.shape, "\(label)")
            #expect(relativeL2Error(try result.float32Values(), try want.values()) <= 1e-5, "\(label); seed \(random.seed)")
        }
        let descriptor = Conv2DDescriptor(
            stride: [2, 2], padding: .explicit([1, 0, 1, 1]), dilation: [1, 2], groups: 2, mode: .convolution, activation: .relu)
        let run = try runCLConv([
            "run", "conv2d", "--input", path("x.npy"), "--weight", path("w.npy"), "--stride", "2,2", "--padding", "1,0,1,1",
            "--dilation", "1,2", "--groups", "2", "--mode", "convolution", "--activation", "relu", "--backward",
            "--grad-output", path("dy.npy"), "--grad-input", path("dx.npy"), "--grad-weight", path("dw.npy"), "--grad-bias", path("db.npy"),
            "--device", "opencl",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let (x, w) = (try tensor("x.npy"), try tensor("w.npy"))
        let expected = try reference.conv2dBackward(
            gradOutput: try tensor("dy.npy"), input: x, weight: w, output: try reference.conv2d(x, weight: w, bias: nil, descriptor: descriptor),
            descriptor: descriptor)
        try expectFile("dx.npy", expected.input!, "conv2d input gradient")
        try expectFile("dw.npy", expected.weight!, "conv2d weight gradient")
        try expectFile("db.npy", expected.bias!, "conv2d bias gradient")

        let pooling = PoolDescriptor(kernel: [3, 3], stride: [2, 2], padding: .explicit([1, 1, 1, 0]), ceilMode: true)
        let pool = try runCLConv([
            "run", "maxpool2d", "--input", path("x.npy"), "--kernel", "3,3", "--stride", "2,2", "--padding", "1,1,1,0", "--ceil-mode",
            "--backward", "--grad-output", path("dp.npy"), "--grad-input", path("dxp.npy"), "--device", "opencl",
        ])
        #expect(pool.status == 0, "\(pool.stderr)")
        let indices = try reference.maxPoolWithIndices(x, descriptor: pooling).indices
        try expectFile(
            "dxp.npy", try reference.maxPoolBackward(gradOutput: try tensor("dp.npy"), indices: indices, inputShape: x.shape, descriptor: pooling),
            "max pooling input gradient")

        for (arguments, message) in [
            (["maxpool2d", "--kernel", "2,2", "--backward", "--grad-output", path("dp.npy"), "--grad-weight", path("z.npy")], "does not take --grad-weight"),
            (["conv2d", "--weight", path("w.npy"), "--groups", "2", "--backward", "--grad-input", path("z.npy")], "--backward needs --grad-output"),
            (["conv2d", "--weight", path("w.npy"), "--grad-output", path("dy.npy"), "--output", path("z.npy")], "does not take --grad-output"),
            (["reduce", "--op", "sum", "--backward", "--grad-output", path("dy.npy")], "does not take --backward"),
        ] {
            let refused = try runCLConv(["run"] + arguments + ["--input", path("x.npy")])
            #expect(refused.status != 0 && refused.stderr.contains(message), "\(arguments): \(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: path("z.npy")))
        }
    }

    @Test("bad .npy files: a one-line error naming the file, exit 1, no output left behind")
    func badFiles() throws {
        var random = TestRandom()
        try write("w.npy", [1, 1, 1, 1], &random)
        let good = NPY.encode(NPYArray(shape: [1, 1, 2, 3], float32: [1, 2, 3, 4, 5, 6]))
        func header(_ text: String) -> [UInt8] {
            var dictionary = Array(text.utf8)
            while (10 + dictionary.count + 1) % 64 != 0 { dictionary.append(0x20) }
            dictionary.append(0x0A)
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(dictionary.count & 0xFF), UInt8(dictionary.count >> 8)] + dictionary
        }
        let data24 = [UInt8](repeating: 0, count: 24)
        let cases: [(name: String, bytes: [UInt8], problem: String)] = [
            ("float64", header("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 2, 3), }") + data24 + data24, "dtype <f8"),
            ("bigendian", header("{'descr': '>f4', 'fortran_order': False, 'shape': (1, 1, 2, 3), }") + data24, "dtype >f4"),
            ("fortran", header("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1, 2, 3), }") + data24, "Fortran order"),
            ("truncated-header", Array(good.prefix(40)), "truncated header"),
            ("truncated-body", Array(good.dropLast(4)), "truncated"),
            ("shape-mismatch", good + [0, 0, 0, 0], "needs 24 data bytes, the file has 28"),
            ("not-npy", Array("just text, not an array".utf8), "not a .npy file"),
            ("empty", [], "not a .npy file"),
            ("bad-shape", header("{'descr': '<f4', 'fortran_order': False, 'shape': (1, x), }") + data24, "malformed shape"),
            ("no-descr", header("{'fortran_order': False, 'shape': (6,), }") + data24, "no 'descr'"),
            ("version9", [0x93] + Array("NUMPY".utf8) + [9, 0] + Array(good.dropFirst(8)), "format version 9.0"),
            // Found by ci/fuzz.sh: header text after the dictionary, with a newline in it, made a two-line error.
            ("newline-in-header", header("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }\n\u{0}x") + data24,
             "not a dictionary: {'descr': '<f4', 'fortran_order': False, 'shape': (6,), }\\x0a\\x00x"),
            ("long-header", header("{'descr': '<f4', 'fortran_order': False, 'shape': (6, x" + String(repeating: "9", count: 3000) + "), }") + data24,
             "malformed shape entry 'x999"),
        ]
        for bad in cases {
            let file = path("\(bad.name).npy")
            try Data(bad.bytes).write(to: URL(fileURLWithPath: file))
            let output = path("out-\(bad.name).npy")
            let run = try runCLConv(["run", "conv2d", "--input", file, "--weight", path("w.npy"), "--output", output])
            #expect(run.status == 1, "\(bad.name): status \(run.status)")
            #expect(run.stderr.contains(file) && run.stderr.contains(bad.problem), "\(bad.name): \(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1, "\(bad.name): one line: \(run.stderr)")
            #expect(run.stderr.utf8.count < 1000, "\(bad.name): a short line: \(run.stderr.utf8.count) bytes")
            #expect(!FileManager.default.fileExists(atPath: output), "\(bad.name): no output file")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty, "no temporary files: \(leftovers)")
    }

    @Test(".npy versions 1.0, 2.0 and 3.0 read; float32 and int64 round-trip")
    func npyFormats() throws {
        let array = NPYArray(shape: [2, 3], float32: [1, -2, 3.5, 4, 5, 6])
        var bytes = NPY.encode(array)
        #expect(bytes.count % 64 == 24, "the data starts on a 64-byte boundary")
        #expect(try NPY.parse(bytes, path: "v1") == array)
        // Version 2.0 and 3.0 differ only in a four-byte header length (and UTF-8 for 3.0).
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        for version: UInt8 in [2, 3] {
            var other = Array(bytes[0..<6]) + [version, 0]
            other += [UInt8(headerLength & 0xFF), UInt8(headerLength >> 8), 0, 0]
            other += bytes[10...]
            #expect(try NPY.parse(other, path: "v\(version)") == array)
        }
        let scalar = NPYArray(shape: [], float32: [7])
        #expect(try NPY.parse(NPY.encode(scalar), path: "scalar") == scalar)
        let indices = NPYArray(shape: [4], int64: [0, -1, 1 << 40, 3])
        bytes = NPY.encode(indices)
        #expect(try NPY.parse(bytes, path: "i").int64Values() == [0, -1, 1 << 40, 3])
        #expect(throws: NPYError.self) { try NPY.parse(bytes, path: "i").float32Values() }
        try NPY.write(array, path: path("a.npy"))
        #expect(try NPY.read(path: path("a.npy")) == array)
    }

    @Test("usage errors exit 1, device errors exit 2, each in one line")
    func exitStatuses() throws {
        var random = TestRandom()
        try write("x.npy", [1, 2, 5, 5], &random)
        try write("w.npy", [1, 2, 3, 3], &random)
        let base = ["run", "conv2d", "--input", path("x.npy"), "--weight", path("w.npy"), "--output", path("y.npy")]
        let cases: [([String], Int32, String)] = [
            (["run", "conv2d", "--input", path("x.npy")], 1, "--output"),
            (base + ["--kernel", "2,2"], 1, "does not take --kernel"),
            (base + ["--stride", "2"], 1, "expected 2 values"),
            (base + ["--groups", "3"], 1, "not divisible by groups 3"),
            (base + ["--padding", "sideways"], 1, "--padding sideways"),
            (base + ["--activation", "tanh"], 1, "--activation tanh"),
            (["run", "reduce", "--input", path("x.npy"), "--output", path("y.npy"), "--op", "median"], 1, "--op median"),
            (["run", "reduce", "--input", path("x.npy"), "--output", path("y.npy"), "--op", "sum", "--axes", "0,0"], 1, "repeated"),
            (["run", "maxpool2d", "--input", path("x.npy"), "--output", path("y.npy")], 1, "needs --kernel"),
            (["run", "conv2d", "--input", path("missing.npy"), "--weight", path("w.npy"), "--output", path("y.npy")], 1, "missing.npy"),
            (base + ["--device", "no-such-device"], 2, "no OpenCL device matches"),
            (base + ["--algorithm", "fft"], 1, "--algorithm fft: expected direct, im2col-gemm, winograd"),
            (base + ["--algorithm", "direct", "--device", "cpu"], 1, "--algorithm needs an OpenCL device"),
            (["run", "maxpool2d", "--input", path("x.npy"), "--output", path("y.npy"), "--kernel", "2,2", "--algorithm", "direct"], 1,
             "does not take --algorithm"),
        ]
        for (arguments, status, text) in cases {
            let run = try runCLConv(arguments)
            #expect(run.status == status, "\(arguments): \(run.status) \(run.stderr)")
            #expect(run.stderr.contains(text), "\(arguments): \(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1, "\(arguments): \(run.stderr)")
        }
    }

    @Test("--help documents every option with its default")
    func help() throws {
        for command in ["run", "verify", "bench", "demo", "devices"] {
            let run = try runCLConv([command, "--help"])
            #expect(run.status == 0, "\(command)")
            #expect(run.stdout.contains("USAGE"), "\(command): \(run.stdout)")
        }
        let run = try runCLConv(["run", "--help"]).stdout
        for option in ["--stride", "--padding", "--dilation", "--groups", "--mode", "--activation", "--slope", "--kernel",
                       "--ceil-mode", "--count-include-pad", "--op", "--axes", "--keepdims", "--indices", "--device"] {
            #expect(run.contains(option), "run --help lists \(option)")
        }
        #expect(run.contains("Default: valid") && run.contains("Default: 1") && run.contains("Default: all axes"))
    }

    @Test("verify passes on the default device", .needsOpenCL)
    func verify() throws {
        let run = try runCLConv(["verify", "--device", "opencl"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").filter { $0.hasSuffix("OK") }
        // 11 convolutions by each algorithm that computes them (3 by Winograd: 25), 39 other checks
        // (reductions on three axis sets), then all 50 again on the generic first-call kernels,
        // then the cases of the operator registry (as many for any seed).
        var random = SeededGenerator(seed: 1)
        let registryCases = OperatorRegistry.entries.reduce(0) { $0 + $1.samples(&random).count }
        #expect(lines.count == 25 + 39 + 50 + registryCases, "one OK line per operator check: \(run.stdout)")
        #expect(lines.filter { $0.contains("[generic]") }.count == 50, "\(run.stdout)")
    }

    @Test("bench runs a case and writes its JSON", .needsOpenCL)
    func bench() throws {
        let json = path("bench.json")
        let run = try runCLConv(["bench", "--device", "opencl", "--filter", "global_avgpool", "--repetitions", "2", "--min-seconds", "0", "--json", json])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("[1/1] global_avgpool_c512_14_b16"), "a progress line: \(run.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [[String: Any]]
        let row = try #require(rows?.first)
        #expect(row["case"] as? String == "global_avgpool_c512_14_b16")
        #expect(row["algorithm"] as? String == "reduce")
        #expect((row["seconds"] as? Double ?? 0) > 0 && (row["gbps"] as? Double ?? 0) > 0)
    }

    @Test("demo runs the music pipeline and writes a valid PNG", .needsOpenCL)
    func demo() throws {
        let png = path("demo.png")
        let run = try runCLConv(["demo", "--png", png, "--device", "opencl"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("spectrogram (conv1d + L2)") && run.stdout.contains("global average pool"))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: png)))
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
        #expect(String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR")
        let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
        let height = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 2 * 372 + 6 && height > 128, "the spectrogram's 372 frames at 2×, or two maps and a gap: \(width)×\(height)")
        let decoded = try decodePNG(png)
        #expect(decoded.width == width && decoded.height == height && decoded.pixels.count == width * height * 3)
        var colors = Set<Int>()
        for offset in stride(from: 0, to: decoded.pixels.count, by: 3) {
            let (r, g, b) = (Int(decoded.pixels[offset]), Int(decoded.pixels[offset + 1]), Int(decoded.pixels[offset + 2]))
            colors.insert(r << 16 | g << 8 | b)
        }
        #expect(colors.count > 50, "a spectrogram and maps, not a flat image: \(colors.count) colours")
        #expect(bytes.count < width * height * 3, "compressed: \(bytes.count) bytes for \(width)×\(height) RGB")
        #expect(String(decoding: bytes.suffix(8).prefix(4), as: UTF8.self) == "IEND")
    }

    @Test("demo reads a 16-bit PCM WAV file; a bad one is a clear error")
    func demoWAV() throws {
        // One second of a 440 Hz tone, stereo, 8 kHz.
        let rate = 8000
        var samples: [UInt8] = []
        for i in 0..<rate {
            let value = Int16(12000 * sin(2 * Double.pi * 440 * Double(i) / Double(rate)))
            for _ in 0..<2 { samples += [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8)] }
        }
        func le(_ value: Int, _ bytes: Int) -> [UInt8] { (0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let format = le(1, 2) + le(2, 2) + le(rate, 4) + le(rate * 4, 4) + le(4, 2) + le(16, 2)
        let wav = Array("RIFF".utf8) + le(36 + samples.count, 4) + Array("WAVEfmt ".utf8) + le(16, 4) + format
            + Array("data".utf8) + le(samples.count, 4) + samples
        try Data(wav).write(to: URL(fileURLWithPath: path("tone.wav")))
        let run = try runCLConv(["demo", path("tone.wav"), "--device", "cpu"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("8000 samples at 8000 Hz"), "\(run.stdout)")

        try Data(wav.prefix(30)).write(to: URL(fileURLWithPath: path("broken.wav")))
        let broken = try runCLConv(["demo", path("broken.wav")])
        #expect(broken.status == 1 && broken.stderr.contains("broken.wav"), "\(broken.stderr)")
    }

    @Test("transcribe: a bad WAV file, model or output is one line naming it, exit 1, nothing written")
    func transcribeRefusals() throws {
        let good = AudioTests.wav(samples: (0..<800).map { sin(Double($0) / 9) * 0.5 }, channels: 1, rate: 8000, tag: 1, bits: 16)
        try Data(good).write(to: URL(fileURLWithPath: path("good.wav")))
        var adpcm = good
        adpcm[32] = 2  // the fmt chunk's format tag, after the LIST chunk
        try Data(adpcm).write(to: URL(fileURLWithPath: path("adpcm.wav")))
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: path("bad.onnx")))
        let outputs = ["--midi", path("out.mid"), "--csv", path("out.csv"), "--png", path("out.png")]
        let cases: [(arguments: [String], message: String)] = [
            (["adpcm.wav", "--model", path("bad.onnx")], "adpcm.wav: unsupported encoding: ADPCM"),
            (["missing.wav", "--model", path("bad.onnx")], "missing.wav: cannot be read"),
            (["good.wav", "--model", path("bad.onnx")], "bad.onnx"),
            (["good.wav", "--model", path("absent.onnx")], "absent.onnx: cannot be read"),
            (["good.wav"], "no model"),
            (["good.wav", "--model", path("bad.onnx"), "--onset-threshold", "1.5"], "onsetThreshold"),
        ]
        for (arguments, message) in cases {
            let files = arguments.map { $0.hasSuffix(".wav") ? path($0) : $0 }
            let run = try runCLConv(["transcribe"] + files + outputs, environment: ["CONVCL_BASIC_PITCH_MODEL": ""])
            #expect(run.status == 1 && run.stderr.contains(message), "\(arguments): \(run.status) \(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
            for output in ["out.mid", "out.csv", "out.png"] {
                #expect(!FileManager.default.fileExists(atPath: path(output)), "\(arguments) left \(output)")
            }
        }
    }

    @Test("soak: training steps with memory and device buffers reported flat; bad usage is one line, exit 1", .needsOpenCL)
    func soak() throws {
        // Under AddressSanitizer (ci/sanitize.sh address), freed memory waits in a quarantine of up
        // to 256 MiB before reuse, which the soak's resident-memory check reads as growth (+60 MiB
        // over 40 steps; +0.9 without it): the soak's own process runs with no quarantine. Other
        // builds ignore the variable.
        let asan = [ProcessInfo.processInfo.environment["ASAN_OPTIONS"], "quarantine_size_mb=0"].compactMap { $0 }
        let run = try runCLConv(
            ["soak", "--minutes", "0", "--steps", "40", "--batch", "4", "--device", "opencl"],
            environment: ["ASAN_OPTIONS": asan.joined(separator: ":")])
        #expect(run.status == 0, "\(run.stderr)")
        let training = run.stdout.split(separator: "\n").first { $0.hasPrefix("training: 40 steps of 4") }
        #expect(training?.contains("device buffers") == true && run.stdout.contains("soak passed"), "\(run.stdout)")
        for (arguments, message) in [
            (["--minutes", "0", "--steps", "0"], "nothing to run"), (["--minutes", "1", "--steps", "0"], "no model"),
            (["--minutes=-1"], "--minutes must be >= 0"), (["--minutes", "1", "--model", "absent.onnx"], "absent.onnx: cannot be read"),
        ] {
            let bad = try runCLConv(["soak"] + arguments, environment: ["CONVCL_BASIC_PITCH_MODEL": ""])
            #expect(bad.status == 1 && bad.stderr.contains(message) && bad.stderr.split(separator: "\n").count == 1, "\(arguments): \(bad.status) \(bad.stderr)")
        }
    }
}
