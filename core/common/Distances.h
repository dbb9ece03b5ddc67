#pragma once
// Distances: float32 squared Euclidean distance and dot product with eight independent sums,
// which the compiler turns into vector code - the inner loops of selection (core-set, BADGE)
// and of the t-SNE map's neighbour search. Pure functions; any thread.

namespace emolens {

inline float squaredDistanceFloat(const float *a, const float *b, int dims)
{
    float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int k = 0;
    for (; k + 8 <= dims; k += 8)
        for (int j = 0; j < 8; ++j) {
            const float d = a[k + j] - b[k + j];
            lanes[j] += d * d;
        }
    float sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
                ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    for (; k < dims; ++k) {
        const float d = a[k] - b[k];
        sum += d * d;
    }
    return sum;
}

inline float dotFloat(const float *a, const float *b, int dims)
{
    float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int k = 0;
    for (; k + 8 <= dims; k += 8)
        for (int j = 0; j < 8; ++j)
            lanes[j] += a[k + j] * b[k + j];
    float sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
                ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    for (; k < dims; ++k)
        sum += a[k] * b[k];
    return sum;
}

} // namespace emolens
