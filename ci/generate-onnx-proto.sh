#!/usr/bin/env bash
# Regenerates Sources/ConvCL/ONNX/onnx.pb.swift from proto/onnx.proto: Debian's protoc with
# protoc-gen-swift built from the swift-protobuf version the package resolves. The generated file
# is committed, so that builds need neither (swift-protobuf's build plugin costs minutes per build).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc > /dev/null || apt-get install -y protobuf-compiler
swift package resolve
swift build -c release --package-path .build/checkouts/swift-protobuf --product protoc-gen-swift
plugin=.build/checkouts/swift-protobuf/.build/release/protoc-gen-swift
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Internal --swift_out=Sources/ConvCL/ONNX -I proto proto/onnx.proto
echo "ci/generate-onnx-proto.sh: wrote Sources/ConvCL/ONNX/onnx.pb.swift"
