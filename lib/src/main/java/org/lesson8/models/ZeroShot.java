package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;

import java.util.List;

/**
 * CLIP's zero-shot classifier (Radford et al. 2021, Fig. 1 (2) and (3)): each class is the text embedding of its
 * prompts, and an image is assigned to the most similar class, {@code logits = exp(t) · I_e · Wᵀ}. With several
 * prompts per class the class weight is the mean of their unit-norm embeddings, renormalised (prompt ensembling,
 * §3.1.4); one prompt per class is plain zero-shot.
 */
public final class ZeroShot implements Classifier {
    private final Clip clip;
    /** Class embeddings (K, E), unit norm. */
    public final NDArray weights;
    private final NDArray weightsT;
    public final List<String> classes;

    private ZeroShot(Clip clip, NDArray weights, List<String> classes) {
        this.clip = clip;
        this.weights = weights;
        this.weightsT = weights.transpose();
        this.classes = classes;
    }

    /** A classifier whose class k is described by the texts {@code prompts.get(k)}; its weights live in {@code m}. */
    public static ZeroShot of(Clip clip, NDManager m, List<String> classNames, List<List<String>> prompts) {
        if (prompts.size() != classNames.size()) {
            throw new IllegalArgumentException(prompts.size() + " prompt lists for " + classNames.size() + " classes");
        }
        if (classNames.isEmpty()) throw new IllegalArgumentException("a zero-shot classifier needs at least one class");
        int e = clip.config.embedDim();
        float[] w = new float[classNames.size() * e];
        for (int k = 0; k < prompts.size(); k++) {
            if (prompts.get(k).isEmpty()) {
                throw new IllegalArgumentException("class '" + classNames.get(k) + "' has no prompt: its weight would be the mean of "
                        + "no embeddings (NaN) and no image would ever be assigned to it; give every class at least one text "
                        + "(with templates: at least one template)");
            }
            try (NDManager sub = m.newSubManager(); NDScope scope = new NDScope()) {
                float[] v = Clip.normalize(clip.embedTexts(sub, prompts.get(k)).mean(new int[] {0}, true)).toFloatArray();
                System.arraycopy(v, 0, w, k * e, e);
            }
        }
        return new ZeroShot(clip, m.create(w, new Shape(classNames.size(), e)), List.copyOf(classNames));
    }

    @Override
    public NDArray logits(NDArray images) {
        NDArray e = clip.embedImages(images);
        return e.matMul(weightsT).mul(clip.scale(e.getManager()));
    }
}
