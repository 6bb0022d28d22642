"""Pictures and words to vectors: finding and loading a model, the torch and ONNX encoders, preprocessing, runtime settings."""
