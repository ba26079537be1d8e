#pragma once
// Online multi-layer perceptrons (River's neural_net.MLPRegressor arithmetic, with a
// classifier head of our own) behind learn::Learner:
//
//   mlp             binary: one sigmoid output, log loss; score = P(y = 1)
//   mlp_multiclass  softmax over the classes seen so far, cross-entropy (log) loss
//   mlp_regressor   identity output (or relu: see output_activation), squared loss (p - y)^2,
//                   on the standardised target by default (scale_target)
//
// One learn() is one step on one event: forward, backpropagation, one optimizer step per
// weight matrix and bias vector (River's MLP.learn_many on a one-row frame).
//
// Inputs: the dense features. With standardize (the default) each is standardised with its
// running mean and population variance (River's StandardScaler: (x - mean) / sqrt(var), 0
// while the variance is 0), the statistics updated by learn() before the step, so predict()
// uses those of the events learned so far (River's Pipeline with a StandardScaler first),
// clipped to +-10. A missing feature (present = 0) reads as its running mean, i.e. 0 once
// standardised. Hashed sparse buckets are ignored: a hidden layer over 2^hash_bits inputs
// would dwarf the dense part; put what matters among the dense features.
//
// Weights: Xavier as River draws them (numpy's legacy RandomState(seed).randn(in, out) /
// sqrt(in) per layer, biases 0), drawn at the first learned event with the widths known
// then. A dense feature that appears later adds an input row and a new class (multiclass)
// adds an output column, both drawn from the same generator, continuing its stream.
//
// Guards: an event whose label or a present dense value is not finite (or beyond 1e100) is
// skipped; so is one whose forward pass or gradient is not finite, or whose step would take a
// parameter beyond 1e100. Each gradient component is clipped to +-clip_gradient. A skipped
// event changes nothing and is counted in guarded_updates().
//
// Keys, each checked with the key named in the error:
//   hidden_dims        one or two hidden layer widths, 1..512: "5", "[16, 8]" or "16,8"; [20]
//   activation         hidden layers: relu | tanh | sigmoid; relu
//   output_activation  mlp_regressor only: identity | relu; identity. River's MLPRegressor
//                      applies its second activation (ReLU in its docstring) to the output and
//                      never the third: relu reproduces it.
//   optimizer          sgd | adam; sgd (River's default SGD(0.01))
//   learning_rate      (0, 1e6); 0.01 (the pipeline passes model.learning_rate)
//   beta1, beta2, epsilon  adam's (River's optim.Adam: beta_1, beta_2, eps): 0.9, 0.999, 1e-8
//   seed               0..4294967295; 42
//   standardize        true | false; true
//   scale_target       mlp_regressor only: true | false; true. The network learns (y - mean) /
//                      std with the target's running statistics (updated before the step,
//                      River's TargetStandardScaler) and predicts mean + std * output; false
//                      learns y as it is (River's MLPRegressor), which starts far from a
//                      target like 40 and needs a small SGD step to get there.
//   clip_gradient      (0, 1e100]; 1000
//   l2, hash_bits      passed by the pipeline to every family: accepted and ignored.

#include <cstdint>

#include "streamlearn/core/status.hpp"

namespace streamlearn::neural {

inline constexpr uint32_t kMlpKindTag = 0x504d4c53;  // "SLMP" little-endian

// Adds the family to learn's factory; harmless when called again.
Status RegisterNeuralLearners();

}  // namespace streamlearn::neural
