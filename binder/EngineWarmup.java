import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Starts DJL's PyTorch engine once and computes 1 + 2 + 3 with it, so that the engine unpacks libtorch into its
 * cache (DJL_CACHE_DIR, default ~/.djl.ai) now: at image build time on Binder, not in the first notebook.
 * Run by ./course setup (warm_engine) as a single-file program: java -cp CLASSPATH binder/EngineWarmup.java
 */
public class EngineWarmup {
    public static void main(String[] args) {
        Engine engine = Engine.getEngine("PyTorch");
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.create(new float[] {1f, 2f, 3f});
            float sum = x.sum().getFloat();
            if (sum != 6f) {
                throw new IllegalStateException("PyTorch computed 1 + 2 + 3 = " + sum);
            }
            System.out.println("course: engine: " + engine.getEngineName() + " " + engine.getVersion()
                    + " computed 1 + 2 + 3 = " + sum);
        }
    }
}
