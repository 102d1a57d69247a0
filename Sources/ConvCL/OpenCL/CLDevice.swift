internal import COpenCL

/// An OpenCL device. Root devices (the only ones ConvCL uses) are not reference-counted:
/// there is nothing to release.
struct CLDevice: @unchecked Sendable {  // a cl_device_id is an immutable handle valid for the process
    let id: cl_device_id
    let platform: CLPlatform

    func string(_ parameter: Int32, _ name: String) throws -> String {
        try queryString(call: "clGetDeviceInfo", name: name) { size, value, sizeReturned in
            clGetDeviceInfo(id, cl_device_info(parameter), size, value, sizeReturned)
        }
    }

    func scalar<T: FixedWidthInteger>(_ type: T.Type, _ parameter: Int32, _ name: String) throws -> T {
        try queryScalar(type, call: "clGetDeviceInfo", name: name) { size, value, sizeReturned in
            clGetDeviceInfo(id, cl_device_info(parameter), size, value, sizeReturned)
        }
    }

    /// Reads every property ConvCL reports or relies on.
    func info(index: Int) throws -> DeviceInfo {
        let type = try scalar(cl_device_type.self, CL_DEVICE_TYPE, "CL_DEVICE_TYPE")
        let extensions = try string(CL_DEVICE_EXTENSIONS, "CL_DEVICE_EXTENSIONS")
            .split(separator: " ").map(String.init)
        let deviceVersion = try string(CL_DEVICE_VERSION, "CL_DEVICE_VERSION")
        let doubleConfig = try scalar(cl_ulong.self, CL_DEVICE_DOUBLE_FP_CONFIG, "CL_DEVICE_DOUBLE_FP_CONFIG")
        let kind: DeviceInfo.Kind =
            type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 ? .gpu
            : type & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 ? .cpu
            : type & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 ? .accelerator
            : .other
        return DeviceInfo(
            index: index,
            platformName: try platform.string(CL_PLATFORM_NAME, "CL_PLATFORM_NAME"),
            platformVersion: try platform.string(CL_PLATFORM_VERSION, "CL_PLATFORM_VERSION"),
            name: try string(CL_DEVICE_NAME, "CL_DEVICE_NAME"),
            vendor: try string(CL_DEVICE_VENDOR, "CL_DEVICE_VENDOR"),
            kind: kind,
            deviceVersion: deviceVersion,
            driverVersion: try string(CL_DRIVER_VERSION, "CL_DRIVER_VERSION"),
            openCLCVersion: try string(CL_DEVICE_OPENCL_C_VERSION, "CL_DEVICE_OPENCL_C_VERSION"),
            computeUnits: Int(try scalar(cl_uint.self, CL_DEVICE_MAX_COMPUTE_UNITS, "CL_DEVICE_MAX_COMPUTE_UNITS")),
            globalMemoryBytes: Int(try scalar(cl_ulong.self, CL_DEVICE_GLOBAL_MEM_SIZE, "CL_DEVICE_GLOBAL_MEM_SIZE")),
            localMemoryBytes: Int(try scalar(cl_ulong.self, CL_DEVICE_LOCAL_MEM_SIZE, "CL_DEVICE_LOCAL_MEM_SIZE")),
            globalMemoryCacheBytes: Int(try scalar(cl_ulong.self, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, "CL_DEVICE_GLOBAL_MEM_CACHE_SIZE")),
            maxAllocationBytes: Int(try scalar(cl_ulong.self, CL_DEVICE_MAX_MEM_ALLOC_SIZE, "CL_DEVICE_MAX_MEM_ALLOC_SIZE")),
            maxWorkGroupSize: Int(try scalar(Int.self, CL_DEVICE_MAX_WORK_GROUP_SIZE, "CL_DEVICE_MAX_WORK_GROUP_SIZE")),
            preferredFloatVectorWidth: Int(try scalar(cl_uint.self, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, "CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT")),
            extensions: extensions,
            supportsFP16: extensions.contains("cl_khr_fp16"),
            supportsFP64: extensions.contains("cl_khr_fp64") || doubleConfig != 0
        )
    }
}
