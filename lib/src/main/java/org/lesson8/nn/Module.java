package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
 * <p>Parameter and buffer names are hierarchical ({@code blocks.0.attn.q.weight}), the same names that end
 * up in the safetensors checkpoints.
 */
public abstract class Module {
    private final Map<String, NDArray> params = new LinkedHashMap<>();
    private final Map<String, Boolean> decay = new LinkedHashMap<>();
    private final Map<String, NDArray> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    protected final NDManager manager;

    protected Module(NDManager manager) {
        this.manager = manager;
    }

    public NDManager getManager() {
        return manager;
    }

    /**
     * Registers a trainable parameter. {@code weightDecay} is false for biases, norms and embeddings' extras.
     * A parameter registered with the empty name takes the module's own name: a module that is a single table
     * ({@link TokenEmbedding}) is stored under the name its parent gives it.
     */
    protected NDArray param(String name, NDArray value, boolean weightDecay) {
        value = float32(name, value);
        value.setRequiresGradient(true);
        params.put(name, value);
        decay.put(name, weightDecay);
        return value;
    }

    /**
     * Registers a buffer: a number the model keeps and a checkpoint stores (the VAE's latent scale), which is not
     * trained: no gradient, not counted by {@link #parameterCount()}, not given to the optimiser.
     */
    protected NDArray buffer(String name, NDArray value) {
        value = float32(name, value);
        buffers.put(name, value);
        return value;
    }

    private static NDArray float32(String name, NDArray value) {
        if (value.getDataType() != DataType.FLOAT32) {
            value = value.toType(DataType.FLOAT32, false);
        }
        value.setName(name);
        return value;
    }

    protected <M extends Module> M child(String name, M module) {
        children.put(name, module);
        return module;
    }

    /** Overwrites the values of a registered parameter or buffer (initialisers, measured constants). */
    protected void assign(String name, NDArray value) {
        NDArray old = params.containsKey(name) ? params.get(name) : buffers.get(name);
        if (old == null) throw new IllegalArgumentException("no parameter or buffer named '" + name + "'");
        old.set(value.toType(DataType.FLOAT32, false).toFloatArray());
    }

    /** All parameters, depth first, with dotted names. */
    public Map<String, NDArray> parameters() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        collect("", out, null, null);
        return out;
    }

    /** All buffers, depth first, with dotted names. */
    public Map<String, NDArray> buffers() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        collect("", null, null, out);
        return out;
    }

    /** What a checkpoint holds: parameters, then buffers. */
    public Map<String, NDArray> state() {
        Map<String, NDArray> out = parameters();
        out.putAll(buffers());
        return out;
    }

    /** Names of parameters that receive weight decay (matrices of Linear/Conv layers). */
    public Map<String, Boolean> decayFlags() {
        Map<String, Boolean> out = new LinkedHashMap<>();
        collect("", null, out, null);
        return out;
    }

    private void collect(String prefix, Map<String, NDArray> out, Map<String, Boolean> flags, Map<String, NDArray> bufs) {
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            String name = name(prefix, e.getKey());
            if (out != null) out.put(name, e.getValue());
            if (flags != null) flags.put(name, decay.get(e.getKey()));
        }
        if (bufs != null) {
            for (Map.Entry<String, NDArray> e : buffers.entrySet()) bufs.put(name(prefix, e.getKey()), e.getValue());
        }
        for (Map.Entry<String, Module> e : children.entrySet()) {
            e.getValue().collect(prefix + e.getKey() + ".", out, flags, bufs);
        }
    }

    private static String name(String prefix, String own) {
        return own.isEmpty() && !prefix.isEmpty() ? prefix.substring(0, prefix.length() - 1) : prefix + own;
    }

    /** Total number of scalar parameters (buffers are not counted). */
    public long parameterCount() {
        long n = 0;
        for (NDArray p : parameters().values()) n += p.size();
        return n;
    }

    public List<NDArray> parameterList() {
        return new ArrayList<>(parameters().values());
    }
}
