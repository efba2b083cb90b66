// A small RAII wrapper over the ACNet C API (include/acnet.h): Model and Session own their
// handles and free them in their destructors; failures throw acnet::Error with the status and
// the library's message.
#pragma once

#include <acnet.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace acnet {

class Error : public std::runtime_error {
public:
    Error(acnet_status status, const std::string &what)
        : std::runtime_error(what + ": " + acnet_status_string(status) + ": " + acnet_last_error_message()),
          status_(status) {}
    acnet_status status() const noexcept { return status_; }

private:
    acnet_status status_;
};

inline void check(acnet_status status, const char *what) {
    if (status != ACNET_OK) throw Error(status, what);
}

class Model {
public:
    explicit Model(const std::string &path) { check(acnet_model_load_file(path.c_str(), &model_), "load"); }
    ~Model() { acnet_model_free(model_); }
    Model(const Model &) = delete;
    Model &operator=(const Model &) = delete;
    Model(Model &&other) noexcept : model_(std::exchange(other.model_, nullptr)) {}

    const acnet_model *get() const noexcept { return model_; }

    std::vector<int64_t> input_shape() const { return shape(acnet_model_input_shape); }
    std::vector<int64_t> output_shape() const { return shape(acnet_model_output_shape); }
    acnet_input_spec input_spec() const {
        acnet_input_spec spec;
        check(acnet_model_input_spec(model_, &spec), "input_spec");
        return spec;
    }
    std::vector<std::string> labels() const {
        size_t n = 0;
        check(acnet_model_label_count(model_, &n), "label_count");
        std::vector<std::string> out;
        for (size_t i = 0; i < n; i++) {
            const char *label = nullptr;
            check(acnet_model_label(model_, i, &label), "label");
            out.emplace_back(label);
        }
        return out;
    }

private:
    using ShapeFn = acnet_status (*)(const acnet_model *, int64_t *, size_t *);
    std::vector<int64_t> shape(ShapeFn fn) const {
        int64_t dims[4];
        size_t rank = 0;
        check(fn(model_, dims, &rank), "shape");
        return std::vector<int64_t>(dims, dims + rank);
    }
    acnet_model *model_ = nullptr;
};

class Session {
public:
    explicit Session(const Model &model, uint32_t max_batch = 1) {
        acnet_session_options options;
        check(acnet_session_options_init(&options), "options_init");
        options.max_batch = max_batch;
        check(acnet_session_create(model.get(), &options, nullptr, 0, &session_), "session_create");
    }
    ~Session() { acnet_session_free(session_); }
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;

    void run(size_t batch, const std::vector<float> &input, std::vector<float> &output) {
        check(acnet_session_run(session_, batch, input.data(), input.size(), output.data(), output.size()), "run");
    }

private:
    acnet_session *session_ = nullptr;
};

}  // namespace acnet
