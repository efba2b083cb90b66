// examples/cpp — the RAII wrapper in acnet.hpp: load, run a mid-gray image, print the top 5.
//     ./build/acnet_cpp_example MODEL.acnb
#include "acnet.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s MODEL.acnb\n", argv[0]);
        return 2;
    }
    try {
        acnet::Model model(argv[1]);
        acnet::Session session(model);
        const auto in = model.input_shape(), out = model.output_shape();
        const auto spec = model.input_spec();
        const auto labels = model.labels();
        size_t in_count = 1, out_count = 1;
        for (auto d : in) in_count *= static_cast<size_t>(d);
        for (auto d : out) out_count *= static_cast<size_t>(d);
        std::vector<float> input(in_count), output(out_count);
        const size_t plane = in_count / spec.channels;
        for (size_t c = 0; c < spec.channels; c++)
            std::fill_n(input.begin() + static_cast<long>(c * plane), plane, (128.0f / 255.0f - spec.mean[c]) / spec.std[c]);
        session.run(1, input, output);
        std::vector<size_t> order(out_count);
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return output[a] > output[b]; });
        for (size_t r = 0; r < std::min<size_t>(5, out_count); r++) {
            const size_t i = order[r];
            std::printf("%zu. %s (class %zu): logit %.4f\n", r + 1, i < labels.size() ? labels[i].c_str() : "", i,
                        output[i]);
        }
    } catch (const acnet::Error &e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
