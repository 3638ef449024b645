package org.lesson8.tools;

/**
 * Trains a shipped checkpoint with a fixed seed: {@code ./course train NAME [args]} runs
 * {@code org.lesson8.tools.Train<Name>.run(args)} (e.g. {@code vit} → {@link TrainVit}).
 * Each writes data/checkpoints/NAME.safetensors, NAME.json (config, command, measured figures)
 * and NAME-log.csv.
 */
public final class TrainCheckpoint {
    private TrainCheckpoint() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: ./course train NAME [args]   (NAME: vit, vitMore, vitPolish, vitSoup, clip, imageGpt [bench|judge], vae, dit, ditEval)");
            System.exit(2);
        }
        String name = args[0];
        String cls = "org.lesson8.tools.Train" + Character.toUpperCase(name.charAt(0)) + name.substring(1);
        Class<?> c;
        try {
            c = Class.forName(cls);
        } catch (ClassNotFoundException e) {
            System.err.println("unknown checkpoint '" + name + "': there is no class " + cls);
            System.exit(2);
            return;
        }
        c.getMethod("run", String[].class).invoke(null, (Object) java.util.Arrays.copyOfRange(args, 1, args.length));
    }
}
