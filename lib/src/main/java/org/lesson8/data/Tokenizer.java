package org.lesson8.data;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A word-level caption tokenizer with special tokens {@code <pad>} = 0, {@code <start>} = 1,
 * {@code <end>} = 2. Text is lower-cased; words are split on spaces and "." / "," become tokens of
 * their own ("a photo of a t-shirt." → a, photo, of, a, t-shirt, .).
 *
 * <p>{@link #encode} gives a fixed-length sequence {@code <start> w1 … wn <end> <pad> …}. An unknown
 * word is an error that names the word (we never map it silently to an UNK token), and so is a
 * caption longer than the context, unless {@code truncate} is asked for: then the words are cut and
 * {@code <end>} is kept as the last token (as CLIP's {@code tokenize(truncate=True)} does).
 */
public final class Tokenizer {
    public static final String PAD = "<pad>";
    public static final String START = "<start>";
    public static final String END = "<end>";
    public static final int PAD_ID = 0;
    public static final int START_ID = 1;
    public static final int END_ID = 2;

    private final List<String> words;
    private final Map<String, Integer> index = new LinkedHashMap<>();

    private Tokenizer(List<String> words) {
        this.words = List.copyOf(words);
        for (int i = 0; i < words.size(); i++) index.put(words.get(i), i);
    }

    /** Builds a vocabulary from texts: the special tokens, then the words in sorted order. */
    public static Tokenizer fromTexts(Collection<String> texts) {
        TreeSet<String> set = new TreeSet<>();
        for (String t : texts) set.addAll(split(t));
        List<String> w = new ArrayList<>(List.of(PAD, START, END));
        w.addAll(set);
        return new Tokenizer(w);
    }

    /** The course vocabulary: every Fashion-MNIST caption and every captioned-shapes caption. */
    public static Tokenizer course() {
        List<String> texts = new ArrayList<>(FashionCaptions.allCaptions());
        texts.addAll(CaptionedShapes.allCaptions());
        return fromTexts(texts);
    }

    /**
     * The vocabulary of the text-to-image notebooks (05–07): every caption of the captioned scenes
     * ({@link SceneCaptions#allCaptions()}) and every Fashion-MNIST caption.
     */
    public static Tokenizer textToImage() {
        List<String> texts = new ArrayList<>(SceneCaptions.allCaptions());
        texts.addAll(FashionCaptions.allCaptions());
        return fromTexts(texts);
    }

    public static List<String> split(String text) {
        String t = text.toLowerCase().replace(".", " . ").replace(",", " , ").trim();
        List<String> out = new ArrayList<>();
        for (String w : t.split("\\s+")) if (!w.isEmpty()) out.add(w);
        return out;
    }

    public int size() {
        return words.size();
    }

    /** Refuses a model whose embedding table has {@code vocab} rows when this tokenizer makes {@link #size()} ids. */
    public void requireSize(int vocab) {
        if (size() != vocab) {
            throw new IllegalArgumentException("the tokenizer has " + size() + " tokens but the config says vocab = " + vocab
                    + ": build the model from a config made for this tokenizer");
        }
    }

    public List<String> vocabulary() {
        return words;
    }

    public int[] encode(String text, int contextLength) {
        return encode(text, contextLength, false);
    }

    public int[] encode(String text, int contextLength, boolean truncate) {
        List<String> w = split(text);
        for (String x : w) {
            if (!index.containsKey(x)) {
                throw new IllegalArgumentException("unknown word '" + excerpt(x) + "' in caption \"" + excerpt(text) + "\": the vocabulary has "
                        + (size() - 3) + " words (see vocabulary()); use only those words or build a tokenizer that includes it");
            }
        }
        int need = w.size() + 2;
        if (need > contextLength && !truncate) {
            throw new IllegalArgumentException("caption \"" + excerpt(text) + "\" needs " + need + " tokens (with <start> and <end>) but the "
                    + "context length is " + contextLength + ": shorten it, or call encode(text, length, true) to truncate");
        }
        int[] ids = new int[contextLength];
        ids[0] = START_ID;
        int n = Math.min(w.size(), contextLength - 2);
        for (int i = 0; i < n; i++) ids[i + 1] = index.get(w.get(i));
        ids[n + 1] = END_ID;
        return ids;
    }

    /** Longest stretch of a user's text quoted in a message. */
    public static final int QUOTED = 60;

    /**
     * A user's text as quoted in an error message: whole up to {@value #QUOTED} characters, else its first
     * {@value #QUOTED} and its length ("… (160000 characters)"), so that a huge input does not make a huge message.
     */
    public static String excerpt(String text) {
        if (text == null) return "null";
        if (text.length() <= QUOTED) return text;
        int end = Character.isHighSurrogate(text.charAt(QUOTED - 1)) ? QUOTED - 1 : QUOTED;
        return text.substring(0, end) + "… (" + text.length() + " characters)";
    }

    /** Position of the {@code <end>} token in an encoded sequence (CLIP pools the text feature there). */
    public static int endPosition(int[] ids) {
        for (int i = 0; i < ids.length; i++) if (ids[i] == END_ID) return i;
        throw new IllegalArgumentException("sequence has no <end> token");
    }

    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            if (id < 0 || id >= words.size()) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + size());
            if (id == START_ID || id == PAD_ID) continue;
            if (id == END_ID) break;
            String w = words.get(id);
            if (!w.equals(".") && !w.equals(",") && sb.length() > 0) sb.append(' ');
            sb.append(w);
        }
        return sb.toString();
    }
}
