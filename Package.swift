// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "ConvCL",
    products: [
        .library(name: "ConvCL", targets: ["ConvCL"]),
        .executable(name: "clconv", targets: ["clconv"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // ONNX models are protobuf; the message code is generated once (ci/generate-onnx-proto.sh).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // The OpenCL C API, from the ICD loader (Debian: ocl-icd-opencl-dev).
        .systemLibrary(
            name: "COpenCL",
            pkgConfig: "OpenCL",
            providers: [.apt(["ocl-icd-opencl-dev", "opencl-headers"])]
        ),
        // Turns Kernels/*.cl into Swift string constants at build time.
        .executableTarget(name: "KernelEmbedder"),
        .plugin(
            name: "EmbedKernels",
            capability: .buildTool(),
            dependencies: ["KernelEmbedder"]
        ),
        .target(
            name: "ConvCL",
            dependencies: ["COpenCL", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            plugins: ["EmbedKernels"]
        ),
        .executableTarget(
            name: "clconv",
            dependencies: [
                "ConvCL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "ConvCLTests", dependencies: ["ConvCL"]),
    ]
)
