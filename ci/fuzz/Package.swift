// swift-tools-version: 6.0
// libFuzzer targets for what users feed ConvCL from elsewhere: ONNX model files, WAV files and
// .npy files. Built and run by ci/fuzz.sh only: every module with AddressSanitizer and coverage,
// and libFuzzer (its library without a main: the toolchain's libclang_rt.fuzzer_no_main) linked
// in, all by flags there.
import PackageDescription

let package = Package(
    name: "ConvCLFuzz",
    dependencies: [.package(name: "ConvCL", path: "../..")],
    targets: [
        .target(name: "CFuzzer"),
        .executableTarget(name: "convcl-fuzz", dependencies: ["CFuzzer", .product(name: "ConvCL", package: "ConvCL")]),
    ]
)
