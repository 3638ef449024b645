package org.lesson8.models;

import ai.djl.ndarray.NDArray;

/** Anything that maps a batch of images (B, C, H, W) to class logits (B, K). */
public interface Classifier {
    NDArray logits(NDArray images);
}
