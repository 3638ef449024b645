package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.lesson8.data.FashionCaptions;
import org.lesson8.data.SceneCaptions;
import org.lesson8.data.Tokenizer;
import org.lesson8.decoding.CausalDecoder;
import org.lesson8.decoding.DecoderCache;
import org.lesson8.decoding.Sampler;
import org.lesson8.decoding.Sampling;
import org.lesson8.decoding.TokenRange;
import org.lesson8.nn.LayerNorm;
import org.lesson8.nn.LearnedPositionEmbedding;
import org.lesson8.nn.Linear;
import org.lesson8.nn.Module;
import org.lesson8.nn.Nd;
import org.lesson8.nn.TokenEmbedding;
import org.lesson8.nn.TransformerBlock;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.lesson8.nn.Init.normal;

/**
 * DALL·E's transformer (Ramesh et al. 2021, Sec. 2.2, stage 2): one decoder-only transformer over the caption's
 * tokens followed by the dVAE's image tokens, in one vocabulary.
 * <pre>
 *   sequence  x = [t_0 … t_{L−1} ; i_0 … i_{N−1}]         text padded to L, image tokens of a G×G grid (N = G²)
 *   ids       text  [0, V_t + L)                           the tokenizer's V_t ids, then one padding id per text position
 *             image [V_t + L, V_t + L + K)                 dVAE code c ↦ V_t + L + c
 *   input     h0 = [s ; E x_0 … E x_{L+N−2}] + P            s: learned start vector
 *             P(t_j) = P_text[j],   P(i at row r, column c) = P_row[r] + P_col[c]
 *   blocks    h_l = block_l(h_{l−1}, causal)                 pre-LN GPT blocks, l = 1..depth
 *   logits    W LN(h_L) + M                                  untied W; M = −∞ on image ids at text positions and
 *                                                            on text ids at image positions
 *   loss      1/8 · mean_text CE + 7/8 · mean_image CE
 * </pre>
 * <b>Padding</b>: a caption shorter than L is padded with the tokenizer's padding id {@link #PAD}, and the model
 * replaces the padding at text position j by its own id V_t + j, as the paper learns a padding token for each text
 * position (and DALLE-pytorch does the same). The padding positions are real positions of the sequence: they are
 * predicted and attended to like words, and a per-position id tells the model where the caption ended.
 *
 * <p>Known differences from the paper: attention is dense and causal everywhere (DALL·E uses row, column and
 * convolutional sparse masks for the image tokens); the image loss is over 49 tokens instead of 1024; there is no
 * BPE (the course's captions are word-level) and no dropout of the caption.
 */
public class DallE extends Module implements CausalDecoder {
    /** The padding id of the caption tokenizer ({@code data.Tokenizer.PAD_ID}). */
    public static final int PAD = 0;
    /** The paper's weights of the text and the image cross-entropy. */
    public static final double TEXT_WEIGHT = 1.0 / 8, IMAGE_WEIGHT = 7.0 / 8;

    /**
     * @param textTokens V_t, the caption tokenizer's vocabulary (padding included)
     * @param textLength L, text positions
     * @param grid       G, side of the image-token grid
     * @param codes      K, the dVAE's codebook size
     */
    public record Config(String name, int textTokens, int textLength, int grid, int codes,
                         int dim, int depth, int heads, int mlp) {
        public int imageTokens() {
            return grid * grid;
        }

        public int length() {
            return textLength + imageTokens();
        }

        /** Text ids: the tokenizer's ids, then one padding id per text position. */
        public TokenRange textIds() {
            return new TokenRange(0, textTokens + textLength);
        }

        public TokenRange imageIds() {
            return new TokenRange(textTokens + textLength, vocab());
        }

        public int vocab() {
            return textTokens + textLength + codes;
        }

        /** The ids sequence position t may hold (and its logits may give): text ids before L, image ids after. */
        public TokenRange allowed(int t) {
            return t < textLength ? textIds() : imageIds();
        }

        /** Parameters from the configuration alone. */
        public long parameterCount() {
            long d = dim, v = vocab();
            long block = 4 * d + (4 * d * d + 4 * d) + (d * mlp + mlp + (long) mlp * d + d);
            long embeddings = v * d + d + (long) textLength * d + 2L * grid * d;
            return embeddings + depth * block + 2 * d + d * v;
        }
    }

    /** What the input at sequence position p carries, and which position embedding it gets. */
    public record Input(Kind kind, int index, int row, int column) {
        public enum Kind { START, TEXT, IMAGE }
    }

    /**
     * The paper's 12-billion-parameter model: 64 layers of width 3968 with 62 heads, 256 BPE text tokens from a
     * vocabulary of 16 384, a 32×32 grid of 8192 codes. From this configuration: about 12.3·10⁹ parameters, the
     * paper's "12B" (its blocks alone hold 12.1·10⁹).
     */
    public static Config paper() {
        return new Config("DALL·E 12B", 16384, 256, 32, 8192, 3968, 64, 62, 4 * 3968);
    }

    /**
     * The course's model: width 128, 4 blocks of 4 heads, {@link #courseTextLength()} = 16 text positions, the grid
     * and codebook of {@code dvae}; 65 positions in all. With the 70 ids of {@code Tokenizer.textToImage()} and the
     * course dVAE: 0.88 M parameters.
     */
    public static Config course(int textTokens, Dvae.Config dvae) {
        return new Config("DALL·E-course (" + dvae.grid() + "×" + dvae.grid() + " tokens, K = " + dvae.codes() + ")",
                textTokens, courseTextLength(), dvae.grid(), dvae.codes(), 128, 4, 4, 512);
    }

    /**
     * Text positions of the course model: the longest caption of either text-to-image domain with {@code <start>} and
     * {@code <end>}. Scene captions have up to 14 words ("a picture of a red circle to the left of a green square."),
     * Fashion captions up to 11, so 16.
     */
    public static int courseTextLength() {
        int fashion = FashionCaptions.allCaptions().stream().mapToInt(c -> Tokenizer.split(c).size()).max().orElseThrow();
        return Math.max(SceneCaptions.MAX_WORDS, fashion) + 2;
    }

    /** Cross-entropy of the text and the image positions (means over their positions) and the weighted loss. */
    public record Losses(NDArray text, NDArray image, NDArray loss) {}

    public final Config config;
    public final NDArray start;
    public final TokenEmbedding tokenEmbed;
    public final LearnedPositionEmbedding textPos;
    public final NDArray rowPos;
    public final NDArray colPos;
    public final List<TransformerBlock> blocks = new ArrayList<>();
    public final LayerNorm norm;
    public final Linear head;

    public DallE(NDManager m, Config c, long seed) {
        super(m);
        this.config = c;
        Random rng = new Random(seed);
        int d = c.dim();
        start = param("start", normal(m, rng, new Shape(1, 1, d), 0.02), false);
        tokenEmbed = child("wte", new TokenEmbedding(m, rng, c.vocab(), d));
        textPos = child("text_pos", new LearnedPositionEmbedding(m, rng, c.textLength(), d));
        rowPos = param("image_row_pos", normal(m, rng, new Shape(1, c.grid(), 1, d), 0.02), false);
        colPos = param("image_col_pos", normal(m, rng, new Shape(1, 1, c.grid(), d), 0.02), false);
        for (int i = 0; i < c.depth(); i++) {
            blocks.add(child("blocks." + i, new TransformerBlock(m, rng, d, c.heads(), c.mlp())));
        }
        norm = child("ln_f", new LayerNorm(m, d));
        head = child("head", new Linear(m, rng, d, c.vocab(), false));
        head.weight.set(normal(m, rng, head.weight.getShape(), 0.02).toFloatArray());
    }

    /** Input position p: 0 is the start, 1 … L carry t_0 … t_{L−1}, L + 1 + (r·G + c) carries the image token at (r, c). */
    public Input input(int p) {
        int l = config.textLength();
        if (p < 0 || p >= config.length()) throw new IllegalArgumentException("no input position " + p + " in 0.." + (config.length() - 1));
        if (p == 0) return new Input(Input.Kind.START, 0, -1, -1);
        if (p <= l) return new Input(Input.Kind.TEXT, p - 1, -1, -1);
        int i = p - l - 1;
        return new Input(Input.Kind.IMAGE, i, i / config.grid(), i % config.grid());
    }

    // ---------------------------------------------------------------- sequences

    /** [text ; codes + offset]: a caption's ids (B, L) and the dVAE's tokens (B, N) as one sequence (B, L + N) of ids. */
    public NDArray sequence(NDArray text, NDArray codes) {
        Shape t = text.getShape(), c = codes.getShape();
        if (t.dimension() != 2 || t.get(1) != config.textLength() || c.dimension() != 2 || c.get(1) != config.imageTokens()
                || c.get(0) != t.get(0)) {
            throw new IllegalArgumentException("expected captions (batch, " + config.textLength() + ") and image tokens (batch, "
                    + config.imageTokens() + ") but got " + t + " and " + c + ": pad captions to " + config.textLength()
                    + " tokens and encode images with the dVAE");
        }
        return text.toType(DataType.INT64, false).concat(codes.toType(DataType.INT64, false).add(config.imageIds().from()), 1);
    }

    /** The dVAE's tokens (B, N) of full sequences (B, L + N) of ids, e.g. the Sampler's output. */
    public int[][] codes(int[][] sequences) {
        int l = config.textLength(), base = config.imageIds().from();
        int[][] out = new int[sequences.length][config.imageTokens()];
        for (int b = 0; b < sequences.length; b++) {
            for (int i = 0; i < out[b].length; i++) out[b][i] = sequences[b][l + i] - base;
        }
        return out;
    }

    /**
     * Ids x_from … x_{from+k−1} (B, k), checked against their positions' ranges, with each {@link #PAD} in the text
     * replaced by its position's padding id.
     */
    NDArray withPadIds(NDArray tokens, int from) {
        Shape s = tokens.getShape();
        if (s.dimension() != 2 || from + s.get(1) > config.length()) {
            throw new IllegalArgumentException("expected ids (batch, positions) within the " + config.length()
                    + " positions of [caption ; image] but got " + s + " from position " + from);
        }
        long[] v = tokens.toType(DataType.INT64, false).toLongArray();
        int k = (int) s.get(1);
        for (int i = 0; i < v.length; i++) {
            int t = from + i % k;
            TokenRange r = config.allowed(t);
            if (!r.contains((int) v[i])) {
                throw new IllegalArgumentException("id " + v[i] + " at position " + t + " is out of range: position " + t
                        + " takes " + (t < config.textLength() ? "caption " : "image ") + r);
            }
            if (t < config.textLength() && v[i] == PAD) v[i] = config.textTokens() + t;
        }
        return tokens.getManager().create(v, s);
    }

    // ---------------------------------------------------------------- forward

    /**
     * Input vectors of ids x_from … x_{from+k−1} (B, k), which sit at input positions from+1 …: (B, k, D), or
     * [s ; E x] (B, k+1, D) from input position 0 when {@code withStart} (then {@code from} is 0).
     */
    NDArray inputs(NDArray tokens, int from, boolean withStart) {
        NDManager xm = tokens.getManager();
        long b = tokens.getShape().get(0), d = config.dim();
        NDArray h = tokens.getShape().get(1) > 0 ? tokenEmbed.forward(withPadIds(tokens, from)) : null;
        if (withStart) {
            NDArray s = xm.zeros(new Shape(b, 1, d)).add(start);
            h = h == null ? s : s.concat(h, 1);
        }
        int p0 = withStart ? 0 : from + 1;
        long k = h.getShape().get(1);
        return h.add(positions(xm).get(":, {}:{}, :", p0, p0 + k));
    }

    /** The position term of every input position (1, L + N, D): 0 for the start, P_text, then P_row + P_col. */
    private NDArray positions(NDManager xm) {
        int g = config.grid(), d = config.dim();
        NDArray text = textPos.forward(xm.zeros(new Shape(1, config.textLength(), d)), 0);
        NDArray image = xm.zeros(new Shape(1, g, g, d)).add(rowPos).add(colPos).reshape(1, (long) g * g, d);
        return xm.zeros(new Shape(1, 1, d)).concat(text, 1).concat(image.get(":, :-1, :"), 1);
    }

    private NDArray blocks(NDArray h, DecoderCache cache) {
        // one new position against a cache may look at every cached key: its causal mask is all zeros
        boolean causal = !(cache != null && h.getShape().get(1) == 1 && cache.length() > 0);
        for (int i = 0; i < blocks.size(); i++) {
            h = blocks.get(i).forward(h, causal, false, cache == null ? null : cache.layer(i)).out();
        }
        return h;
    }

    /** W LN(h) with M added: outputs at sequence positions from … from+k−1 (the predictions of x_from …). */
    private NDArray readout(NDArray h, int from) {
        NDArray logits = head.forward(norm.forward(h));
        long k = h.getShape().get(1);
        int v = config.vocab();
        float[] mask = new float[(int) k * v];
        for (int i = 0; i < k; i++) {
            TokenRange r = config.allowed(from + i);
            for (int j = 0; j < v; j++) if (!r.contains(j)) mask[i * v + j] = -1e9f;
        }
        return logits.add(h.getManager().create(mask, new Shape(1, k, v)));
    }

    @Override
    public int length() {
        return config.length();
    }

    @Override
    public int vocab() {
        return config.vocab();
    }

    /** Logits (B, T, V) of sequences of ids (B, T): row t predicts x_t from x_{&lt;t}, restricted to position t's ids. */
    @Override
    public NDArray logits(NDArray tokens) {
        long t = tokens.getShape().get(1);
        if (t < 1) throw new IllegalArgumentException("logits need at least one position, got " + tokens.getShape());
        return readout(blocks(inputs(tokens.get(":, :{}", t - 1), 0, true), null), 0);
    }

    @Override
    public DecoderCache newCache() {
        return new DecoderCache(config.depth());
    }

    /** With a cache, the first call feeds [s ; x_0 … x_{p−1}]; each later x_t enters alone at input position t + 1. */
    @Override
    public NDArray next(NDArray tokens, DecoderCache cache) {
        int seen = cache == null ? 0 : (int) cache.length();
        int k = (int) tokens.getShape().get(1);
        int next = seen == 0 ? k : seen + k - 1;   // the sequence position whose logits are returned
        NDArray x = seen == 0 ? inputs(tokens, 0, true) : inputs(tokens, seen - 1, false);
        return readout(blocks(x, cache).get(":, -1:, :"), next).get(":, 0, :");
    }

    // ---------------------------------------------------------------- loss and sampling

    /** −log p(x_t | x_{&lt;t}) at every position (B, L + N), with the restricted logits. */
    public NDArray tokenNll(NDArray sequence) {
        NDArray targets = withPadIds(sequence, 0);
        return logits(sequence).logSoftmax(2).mul(targets.oneHot(config.vocab()).toType(DataType.FLOAT32, false))
                .sum(new int[] {2}).neg();
    }

    /** The paper's loss of captions (B, L) and the dVAE's tokens (B, N): 1/8 text CE + 7/8 image CE. */
    public Losses losses(NDArray text, NDArray codes) {
        NDArray nll = tokenNll(sequence(text, codes));
        NDArray textCe = nll.get(":, :{}", config.textLength()).mean();
        NDArray imageCe = nll.get(":, {}:", config.textLength()).mean();
        return new Losses(textCe, imageCe, Nd.mul(textCe, TEXT_WEIGHT).add(Nd.mul(imageCe, IMAGE_WEIGHT)));
    }

    /** The Sampler's settings with every position restricted to its ids (image positions to image ids). */
    public Sampling sampling(double temperature, int topK) {
        return Sampling.of(temperature, topK).allowing(config::allowed);
    }

    /**
     * Image tokens (B, N) of the dVAE for captions (B, L) of tokenizer ids, sampled with temperature and top-k
     * through the shared {@link Sampler}.
     */
    public int[][] sample(NDManager parent, int[][] captions, double temperature, int topK, long seed, boolean cached) {
        for (int[] c : captions) {
            if (c.length != config.textLength()) {
                throw new IllegalArgumentException("captions must be padded to " + config.textLength() + " tokens, got " + c.length);
            }
        }
        Sampling how = sampling(temperature, topK).withCache(cached);
        return codes(Sampler.sample(parent, this, captions, how, new Random(seed)));
    }
}
