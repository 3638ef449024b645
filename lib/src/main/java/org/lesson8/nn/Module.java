package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A small, explicit parameter container in the spirit of {@code torch.nn.Module}.
 *
 * <p>DJL's {@code Block} API infers parameter shapes lazily and hides weights behind a
 * ParameterStore; for a course that wants each model to read like its paper's figure we keep the
 * parameters explicit: every module owns named {@link NDArray}s (created eagerly in the model's
 * manager, with gradients attached) and child modules. The forward passes use DJL's functional
 * operators ({@code Linear.linear}, {@code Convolution.convolution}, {@code LayerNorm.layerNorm},
 * {@code matMul}, {@code softmax}), which call straight into libtorch.
 *
 * <p>Parameter names are hierarchical ({@code blocks.0.attn.qkv.weight}), the same names that end
 * up in the safetensors checkpoints.
 */
public abstract class Module {
    private final Map<String, NDArray> params = new LinkedHashMap<>();
    private final Map<String, Boolean> decay = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    protected final NDManager manager;

    protected Module(NDManager manager) {
        this.manager = manager;
    }

    public NDManager getManager() {
        return manager;
    }

    /** Registers a trainable parameter. {@code weightDecay} is false for biases, norms and embeddings' extras. */
    protected NDArray param(String name, NDArray value, boolean weightDecay) {
        if (value.getDataType() != DataType.FLOAT32) {
            value = value.toType(DataType.FLOAT32, false);
        }
        value.setName(name);
        value.setRequiresGradient(true);
        params.put(name, value);
        decay.put(name, weightDecay);
        return value;
    }

    protected <M extends Module> M child(String name, M module) {
        children.put(name, module);
        return module;
    }

    /** Re-assigns the value of a registered parameter (used by initialisers and checkpoint loading). */
    protected void replaceParam(String name, NDArray value) {
        NDArray old = params.get(name);
        old.set(value.toType(DataType.FLOAT32, false).toFloatArray());
    }

    /** All parameters, depth first, with dotted names. */
    public Map<String, NDArray> parameters() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        collect("", out, null);
        return out;
    }

    /** Names of parameters that receive weight decay (matrices of Linear/Conv layers). */
    public Map<String, Boolean> decayFlags() {
        Map<String, Boolean> out = new LinkedHashMap<>();
        collect("", null, out);
        return out;
    }

    private void collect(String prefix, Map<String, NDArray> out, Map<String, Boolean> flags) {
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            if (out != null) out.put(prefix + e.getKey(), e.getValue());
            if (flags != null) flags.put(prefix + e.getKey(), decay.get(e.getKey()));
        }
        for (Map.Entry<String, Module> e : children.entrySet()) {
            e.getValue().collect(prefix + e.getKey() + ".", out, flags);
        }
    }

    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Total number of scalar parameters. */
    public long parameterCount() {
        long n = 0;
        for (NDArray p : parameters().values()) n += p.size();
        return n;
    }

    public List<NDArray> parameterList() {
        return new ArrayList<>(parameters().values());
    }

    // ---- initialisers used by the models (same conventions as the reference implementations) ----

    /** Truncated-free normal init N(0, std²) on the model manager. */
    protected static NDArray normal(NDManager m, Random rng, Shape shape, double std) {
        float[] v = new float[(int) shape.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextGaussian() * std);
        return m.create(v, shape);
    }

    /** Xavier/Glorot uniform, as used by ViT/DiT/GPT reference code for Linear weights. */
    protected static NDArray xavierUniform(NDManager m, Random rng, long fanOut, long fanIn, Shape shape) {
        double a = Math.sqrt(6.0 / (fanIn + fanOut));
        float[] v = new float[(int) shape.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * a);
        return m.create(v, shape);
    }
}
