// Times CLBlast's convgemm (im2col + GEMM in CLBlast's kernels) on the first OpenCL device, for
// ci/bench.sh. Arguments: batch channels height width kernels kernel_h kernel_w pad_h pad_w
// stride_h stride_w min_seconds. Prints the median wall time per call in seconds (each call
// followed by clFinish), or an error on stderr and exit status 1.
#define CL_TARGET_OPENCL_VERSION 120
#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHECK(call)                                                                   \
    do {                                                                              \
        cl_int status_ = (call);                                                      \
        if (status_ != CL_SUCCESS) {                                                  \
            fprintf(stderr, "clblast_convgemm: %s failed with %d\n", #call, status_); \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void* a, const void* b)
{
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

static cl_mem random_buffer(cl_context context, cl_command_queue queue, size_t count)
{
    cl_int status;
    cl_mem buffer = clCreateBuffer(context, CL_MEM_READ_WRITE, count * sizeof(float), NULL, &status);
    CHECK(status);
    float* values = malloc(count * sizeof(float));
    for (size_t i = 0; i < count; ++i) values[i] = (float)rand() / RAND_MAX - 0.5f;
    CHECK(clEnqueueWriteBuffer(queue, buffer, CL_TRUE, 0, count * sizeof(float), values, 0, NULL, NULL));
    free(values);
    return buffer;
}

int main(int argc, char** argv)
{
    if (argc != 13) {
        fprintf(stderr, "usage: %s batch channels height width kernels kernel_h kernel_w pad_h pad_w stride_h stride_w min_seconds\n", argv[0]);
        return 1;
    }
    size_t a[11];
    for (int i = 0; i < 11; ++i) a[i] = (size_t)atol(argv[i + 1]);
    const size_t batch = a[0], channels = a[1], height = a[2], width = a[3], kernels = a[4];
    const size_t kh = a[5], kw = a[6], ph = a[7], pw = a[8], sh = a[9], sw = a[10];
    const double minSeconds = atof(argv[12]);
    const size_t oh = (height + 2 * ph - kh) / sh + 1, ow = (width + 2 * pw - kw) / sw + 1;

    cl_platform_id platform;
    cl_device_id device;
    cl_int status;
    CHECK(clGetPlatformIDs(1, &platform, NULL));
    CHECK(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL));
    cl_context context = clCreateContext(NULL, 1, &device, NULL, NULL, &status);
    CHECK(status);
    cl_command_queue queue = clCreateCommandQueue(context, device, 0, &status);
    CHECK(status);
    cl_mem input = random_buffer(context, queue, batch * channels * height * width);
    cl_mem weight = random_buffer(context, queue, kernels * channels * kh * kw);
    cl_mem output = random_buffer(context, queue, batch * kernels * oh * ow);

    double samples[10000];
    int count = 0;
    double total = 0;
    for (int call = -1; count < 10000 && (count < 5 || total < minSeconds); ++call) {
        const double start = now();
        CLBlastStatusCode code = CLBlastSconvgemm(
            CLBlastKernelModeCrossCorrelation, channels, height, width, kh, kw, ph, pw, sh, sw, 1, 1, kernels, batch,
            input, 0, weight, 0, output, 0, &queue, NULL);
        if (code != CLBlastSuccess) {
            fprintf(stderr, "clblast_convgemm: CLBlastSconvgemm failed with %d\n", (int)code);
            return 1;
        }
        CHECK(clFinish(queue));
        const double seconds = now() - start;
        if (call < 0) continue;  // the first call compiles CLBlast's kernels
        samples[count++] = seconds;
        total += seconds;
    }
    qsort(samples, count, sizeof(double), compare);
    printf("%.9f\n", samples[count / 2]);
    clReleaseMemObject(input);
    clReleaseMemObject(weight);
    clReleaseMemObject(output);
    clReleaseCommandQueue(queue);
    clReleaseContext(context);
    return 0;
}
