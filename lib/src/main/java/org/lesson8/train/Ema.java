package org.lesson8.train;

import org.lesson8.nn.Nd;

import ai.djl.ndarray.NDArray;
import org.lesson8.nn.Module;

import java.util.ArrayList;
import java.util.List;

/**
 * Exponential moving average of a model's weights (DiT samples with EMA weights, decay 0.9999):
 * ema ← d·ema + (1 − d)·θ after every optimiser step, with the usual warm-up d_k = min(decay, (1 + k)/(10 + k))
 * so that a short run is not dominated by the random initial weights.
 */
public final class Ema {
    private final List<NDArray> params = new ArrayList<>();
    private final List<NDArray> shadow = new ArrayList<>();
    private final double decay;
    private int updates;

    public Ema(Module model, double decay) {
        this.decay = decay;
        for (NDArray p : model.parameterList()) {
            params.add(p);
            NDArray s = p.duplicate();
            s.setRequiresGradient(false);
            shadow.add(s);
        }
    }

    public double currentDecay() {
        return Math.min(decay, (1.0 + updates) / (10.0 + updates));
    }

    public void update() {
        double d = currentDecay();
        for (int i = 0; i < params.size(); i++) {
            NDArray s = shadow.get(i);
            // called between optimiser steps, with no gradient being recorded
            try (NDArray delta = Nd.muli(params.get(i).sub(s), 1 - d)) {
                s.addi(delta);
            }
        }
        updates++;
    }

    /** Writes the averaged weights into the model's parameters (e.g. before saving or sampling). */
    public void copyTo(Module model) {
        List<NDArray> target = model.parameterList();
        if (target.size() != shadow.size()) throw new IllegalArgumentException("EMA belongs to another model");
        for (int i = 0; i < shadow.size(); i++) target.get(i).set(shadow.get(i).toFloatArray());
    }
}
