package org.lesson8.tools;

/** {@code ./course train vitSoup [steps] [ingredients]}: see {@link TrainVit}. */
public final class TrainVitSoup {
    private TrainVitSoup() {}

    public static void run(String[] args) throws Exception {
        TrainVit.soup(args.length > 0 ? Integer.parseInt(args[0]) : 6000, args.length > 1 ? Integer.parseInt(args[1]) : 4);
    }
}
