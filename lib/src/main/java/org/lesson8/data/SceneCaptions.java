package org.lesson8.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.lesson8.data.CaptionedShapes.COLOURS;
import static org.lesson8.data.CaptionedShapes.SHAPES;

/**
 * The caption grammar of the {@link CaptionedScenes}: templates with synonyms, so that a model learns words and not
 * fixed strings, and the parser that reads any caption of the grammar back into its {@link SceneAttributes}:
 * <pre>
 *   [there is | a picture of] a SIZE COLOUR SHAPE POSITION .
 *   [there is | a picture of] a COLOUR SHAPE RELATION a COLOUR SHAPE .
 * </pre>
 * A relation has a mirror: "A to the left of B" = "B to the right of A", "A above B" = "B below A"; both phrasings
 * parse to the same attributes. {@link #canonical} is one fixed phrasing per scene.
 */
public final class SceneCaptions {
    private SceneCaptions() {}

    /** Words for size 0 (small) and 1 (large); the first is the canonical one. */
    public static final List<List<String>> SIZE_WORDS = List.of(List.of("small", "tiny"), List.of("large", "big"));
    /** Phrases for the positions of {@link CaptionedShapes#POSITIONS}; the first is the canonical one. */
    public static final List<List<String>> POSITION_WORDS = List.of(List.of("on the left"), List.of("on the right"),
            List.of("at the top"), List.of("at the bottom"), List.of("in the centre", "in the middle"));
    /** "first RELATION second" per axis: the first object is the left or the upper one. */
    public static final List<List<String>> RELATION_WORDS = List.of(List.of("to the left of"), List.of("above", "over"));
    /** "second MIRROR first": the same scene told from the other object. */
    public static final List<List<String>> MIRROR_WORDS = List.of(List.of("to the right of"), List.of("below", "under"));
    public static final List<String> PREFIXES = List.of("", "there is ", "a picture of ");

    public static final String GRAMMAR = """
            scene captions have one of two forms:
              [there is | a picture of] a SIZE COLOUR SHAPE POSITION .
              [there is | a picture of] a COLOUR SHAPE RELATION a COLOUR SHAPE .
            SIZE     = %s
            COLOUR   = %s
            SHAPE    = %s
            POSITION = %s
            RELATION = %s
            and the two objects of a relation differ in colour and in shape.""".formatted(
            alternatives(SIZE_WORDS), String.join(" | ", COLOURS), String.join(" | ", SHAPES), alternatives(POSITION_WORDS),
            alternatives(List.of(RELATION_WORDS.get(0), MIRROR_WORDS.get(0), RELATION_WORDS.get(1), MIRROR_WORDS.get(1))));

    private static final List<String> ALL = all();
    private static final Set<String> VOCABULARY = vocabularyOf(ALL);
    /** Words (with the final ".") of the longest caption of the grammar. */
    public static final int MAX_WORDS = ALL.stream().mapToInt(c -> Tokenizer.split(c).size()).max().orElseThrow();

    /** The one fixed phrasing of a scene: "a small red circle on the left." or "a red circle to the left of a blue square.". */
    public static String canonical(SceneAttributes a) {
        return phrasings(a).get(0);
    }

    /** Every phrasing of a scene, canonical first (prefixes × synonyms, and both directions of a relation). */
    public static List<String> phrasings(SceneAttributes a) {
        List<String> out = new ArrayList<>();
        for (String prefix : PREFIXES) {
            if (a.objects() == 1) {
                String object = " " + COLOURS.get(a.colour1()) + " " + SHAPES.get(a.shape1()) + " ";
                for (String size : SIZE_WORDS.get(a.size())) {
                    for (String position : POSITION_WORDS.get(a.position())) out.add(prefix + "a " + size + object + position + ".");
                }
            } else {
                String first = "a " + a.object1();
                String second = "a " + a.object2();
                for (String r : RELATION_WORDS.get(a.axis())) out.add(prefix + first + " " + r + " " + second + ".");
                for (String r : MIRROR_WORDS.get(a.axis())) out.add(prefix + second + " " + r + " " + first + ".");
            }
        }
        return out;
    }

    /** A phrasing of the scene drawn from {@code r}, every phrasing equally likely. */
    public static String sample(SceneAttributes a, Random r) {
        List<String> p = phrasings(a);
        return p.get(r.nextInt(p.size()));
    }

    /** Every caption of the grammar: each phrasing of each scene whose two objects differ in colour and shape. */
    public static List<String> allCaptions() {
        return ALL;
    }

    /** The words captions of the grammar use, "." included, in sorted order. */
    public static Set<String> vocabulary() {
        return VOCABULARY;
    }

    /**
     * Reads a caption back into the scene it describes. Upper case and a missing final "." are accepted.
     *
     * @throws IllegalArgumentException for an empty or over-long caption, a word outside {@link #vocabulary()} (named
     *         in the message), or words of the vocabulary in an order the grammar does not have (the message shows the
     *         {@link #GRAMMAR})
     */
    public static SceneAttributes parse(String caption) {
        if (caption == null || caption.isBlank()) {
            throw new IllegalArgumentException("empty caption: describe a scene, e.g. \"a small red circle on the left.\" or "
                    + "\"a red circle to the left of a blue square.\"");
        }
        List<String> w = new ArrayList<>(Tokenizer.split(caption));
        if (w.size() > MAX_WORDS) {
            throw new IllegalArgumentException("caption \"" + Tokenizer.excerpt(caption) + "\" has " + w.size() + " words, but scene captions have at most "
                    + MAX_WORDS + " (the final \".\" included): describe one object, or two in a relation");
        }
        for (String x : w) {
            if (!VOCABULARY.contains(x)) {
                throw new IllegalArgumentException("unknown word '" + Tokenizer.excerpt(x) + "' in caption \"" + Tokenizer.excerpt(caption) + "\": scene captions use only "
                        + "these words: " + String.join(", ", VOCABULARY));
            }
        }
        if (!w.get(w.size() - 1).equals(".")) w.add(".");
        return new Parser(caption, w).caption();
    }

    /** A recursive-descent reader of the grammar over the caption's words. */
    private static final class Parser {
        private final String caption;
        private final List<String> w;
        private int at;

        Parser(String caption, List<String> words) {
            this.caption = caption;
            this.w = words;
        }

        SceneAttributes caption() {
            for (String p : PREFIXES) if (!p.isEmpty() && phrase(p.trim())) break;
            expect("a");
            int size = oneOf(SIZE_WORDS);
            int colour = index(COLOURS, size >= 0 ? "a colour" : "a size (" + alternatives(SIZE_WORDS) + ") or a colour");
            int shape = index(SHAPES, "a shape");
            if (size >= 0) {
                int position = oneOf(POSITION_WORDS);
                if (position < 0) throw malformed("a position (" + alternatives(POSITION_WORDS) + ")");
                expect(".");
                return SceneAttributes.one(colour, shape, size, position);
            }
            int axis = oneOf(RELATION_WORDS);
            int mirrorAxis = axis < 0 ? oneOf(MIRROR_WORDS) : -1;
            if (axis < 0 && mirrorAxis < 0) {
                int here = at;
                String hint = oneOf(POSITION_WORDS) >= 0 ? "; a one-object caption needs a size before the colour" : "";
                at = here;
                throw malformed("a relation (" + alternatives(RELATION_WORDS) + " | " + alternatives(MIRROR_WORDS) + ")" + hint);
            }
            expect("a");
            int colour2 = index(COLOURS, "a colour");
            int shape2 = index(SHAPES, "a shape");
            expect(".");
            if (colour == colour2 || shape == shape2) {
                throw new IllegalArgumentException("caption \"" + caption + "\" relates two objects of the same "
                        + (colour == colour2 ? "colour" : "shape") + ", which the scenes never show\n" + GRAMMAR);
            }
            return axis >= 0 ? SceneAttributes.two(colour, shape, axis, colour2, shape2)
                    : SceneAttributes.two(colour2, shape2, mirrorAxis, colour, shape);
        }

        private boolean phrase(String p) {
            List<String> words = List.of(p.split(" "));
            if (at + words.size() > w.size() || !w.subList(at, at + words.size()).equals(words)) return false;
            at += words.size();
            return true;
        }

        /** The index of the first list with a phrase that comes next (consumed), or −1. */
        private int oneOf(List<List<String>> options) {
            for (int i = 0; i < options.size(); i++) for (String p : options.get(i)) if (phrase(p)) return i;
            return -1;
        }

        private int index(List<String> words, String what) {
            int i = at < w.size() ? words.indexOf(w.get(at)) : -1;
            if (i < 0) throw malformed(what + " (" + String.join(" | ", words) + ")");
            at++;
            return i;
        }

        private void expect(String word) {
            if (!phrase(word)) throw malformed("'" + word + "'");
        }

        private IllegalArgumentException malformed(String expected) {
            String found = at < w.size() ? "'" + w.get(at) + "'" : "the end";
            return new IllegalArgumentException("malformed caption \"" + caption + "\": expected " + expected + " at word "
                    + (at + 1) + " but found " + found + "\n" + GRAMMAR);
        }
    }

    private static String alternatives(List<List<String>> options) {
        return String.join(" | ", options.stream().flatMap(List::stream).toList());
    }

    private static List<String> all() {
        List<String> out = new ArrayList<>();
        for (int c = 0; c < COLOURS.size(); c++) {
            for (int s = 0; s < SHAPES.size(); s++) {
                for (int z = 0; z < SIZE_WORDS.size(); z++) {
                    for (int p = 0; p < POSITION_WORDS.size(); p++) out.addAll(phrasings(SceneAttributes.one(c, s, z, p)));
                }
                for (int c2 = 0; c2 < COLOURS.size(); c2++) {
                    for (int s2 = 0; s2 < SHAPES.size(); s2++) {
                        if (c2 == c || s2 == s) continue;
                        for (int axis = 0; axis < 2; axis++) out.addAll(phrasings(SceneAttributes.two(c, s, axis, c2, s2)));
                    }
                }
            }
        }
        return List.copyOf(out);
    }

    private static Set<String> vocabularyOf(List<String> captions) {
        TreeSet<String> v = new TreeSet<>();
        for (String c : captions) v.addAll(Tokenizer.split(c));
        return java.util.Collections.unmodifiableSet(v);
    }
}
