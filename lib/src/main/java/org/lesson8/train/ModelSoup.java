package org.lesson8.train;

import ai.djl.ndarray.NDArray;
import org.lesson8.nn.Module;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A uniform model soup (Wortsman et al. 2022, "Model soups"): the element-wise mean of the weights of several copies
 * of one model, each fine-tuned from the same starting weights with its own seed or recipe. Fine-tuned copies of one
 * start usually stay in one basin of the loss, so their average is a model too, and often a better one than each
 * copy. Copies are added one at a time (their weights are copied to the heap), then {@link #loadInto} writes the mean.
 */
public final class ModelSoup {
    private final Map<String, float[]> sum = new LinkedHashMap<>();
    private final Map<String, String> shapes = new LinkedHashMap<>();
    private int count;

    /** Adds one fine-tuned copy; its parameters must have the names and shapes of the first copy added. */
    public void add(Module model) {
        Map<String, NDArray> p = model.parameters();
        if (count > 0) checkSameParameters(p, "this copy");
        for (Map.Entry<String, NDArray> e : p.entrySet()) {
            float[] v = e.getValue().toFloatArray();
            float[] s = sum.computeIfAbsent(e.getKey(), k -> new float[v.length]);
            for (int i = 0; i < v.length; i++) s[i] += v[i];
            shapes.putIfAbsent(e.getKey(), e.getValue().getShape().toString());
        }
        count++;
    }

    /** Writes the mean of the added copies into {@code model} (which must have the same parameters). */
    public void loadInto(Module model) {
        if (count == 0) throw new IllegalStateException("the soup is empty: add at least one fine-tuned copy first");
        Map<String, NDArray> p = model.parameters();
        checkSameParameters(p, "the target model");
        for (Map.Entry<String, NDArray> e : p.entrySet()) {
            float[] mean = Arrays.copyOf(sum.get(e.getKey()), sum.get(e.getKey()).length);
            for (int i = 0; i < mean.length; i++) mean[i] /= count;
            e.getValue().set(mean);
        }
    }

    private void checkSameParameters(Map<String, NDArray> p, String what) {
        for (Map.Entry<String, NDArray> e : p.entrySet()) {
            String shape = shapes.get(e.getKey());
            if (shape == null) {
                throw new IllegalArgumentException(what + " has parameter '" + e.getKey() + "' that the soup's copies do not have:"
                        + " only copies of one model with one configuration can be averaged");
            }
            if (!shape.equals(e.getValue().getShape().toString())) {
                throw new IllegalArgumentException("parameter '" + e.getKey() + "' has shape " + e.getValue().getShape() + " in "
                        + what + " but " + shape + " in the soup: only copies of one configuration can be averaged");
            }
        }
        for (String k : shapes.keySet()) {
            if (!p.containsKey(k)) {
                throw new IllegalArgumentException(what + " lacks parameter '" + k + "' of the soup's copies:"
                        + " only copies of one model with one configuration can be averaged");
            }
        }
    }
}
