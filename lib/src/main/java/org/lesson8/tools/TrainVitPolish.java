package org.lesson8.tools;

/** {@code ./course train vitPolish [steps] [seconds]}: see {@link TrainVit}. */
public final class TrainVitPolish {
    private TrainVitPolish() {}

    public static void run(String[] args) throws Exception {
        TrainVit.vit(args.length > 0 ? Integer.parseInt(args[0]) : 6000, args.length > 1 ? Double.parseDouble(args[1]) : 1e9,
                TrainVit.Cycle.POLISH);
    }
}
