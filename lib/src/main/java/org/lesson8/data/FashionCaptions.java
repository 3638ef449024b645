package org.lesson8.data;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;

/**
 * Templated English captions for Fashion-MNIST classes, e.g. "a photo of a sneaker.". Each class has
 * a few everyday words and there are several templates, so that a contrastive model learns words,
 * not a fixed label string.
 */
public final class FashionCaptions {
    private FashionCaptions() {}

    /** The prompt name per class, used by zero-shot classification ("a photo of a {label}."). */
    public static final List<String> LABELS = List.of(
            "t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot");

    /** Words that describe each class in training captions. */
    public static final List<List<String>> WORDS = List.of(
            List.of("t-shirt", "top", "tee"),
            List.of("trouser", "pair of trousers", "pair of pants"),
            List.of("pullover", "sweater", "jumper"),
            List.of("dress", "summer dress"),
            List.of("coat", "jacket"),
            List.of("sandal", "summer sandal"),
            List.of("shirt", "button shirt"),
            List.of("sneaker", "running shoe"),
            List.of("bag", "handbag"),
            List.of("ankle boot", "boot"));

    /** Caption templates; {} is replaced by "a"/"an" + the word. */
    public static final List<String> TEMPLATES = List.of(
            "a photo of {}.",
            "a picture of {}.",
            "a black and white photo of {}.",
            "a low resolution photo of {}.",
            "a small photo of {}.",
            "an image of {}.",
            "a grey photo of {}.",
            "{}.");

    public static String article(String word) {
        return ("aeiou".indexOf(word.charAt(0)) >= 0 ? "an " : "a ") + word;
    }

    public static String fill(String template, String word) {
        return template.replace("{}", article(word));
    }

    /** A random caption for class c. */
    public static String sample(int c, Random rng) {
        List<String> w = WORDS.get(c);
        return fill(TEMPLATES.get(rng.nextInt(TEMPLATES.size())), w.get(rng.nextInt(w.size())));
    }

    /** "a photo of a {label}." for class c. */
    public static String prompt(int c) {
        return fill(TEMPLATES.get(0), LABELS.get(c));
    }

    public static List<String> allCaptions() {
        LinkedHashSet<String> s = new LinkedHashSet<>();
        for (int c = 0; c < WORDS.size(); c++) {
            for (String w : WORDS.get(c)) for (String t : TEMPLATES) s.add(fill(t, w));
            for (String t : TEMPLATES) s.add(fill(t, LABELS.get(c)));
        }
        return new ArrayList<>(s);
    }
}
