package org.lesson8.tools;

/** {@code ./course train vitMore [steps] [seconds]}: see {@link TrainVit}. */
public final class TrainVitMore {
    private TrainVitMore() {}

    public static void run(String[] args) throws Exception {
        TrainVit.vit(args.length > 0 ? Integer.parseInt(args[0]) : 12000, args.length > 1 ? Double.parseDouble(args[1]) : 1e9,
                TrainVit.Cycle.MORE);
    }
}
