package org.lesson8.train;

import ai.djl.engine.Engine;

import java.util.Random;

/** One seed for Java and libtorch. */
public final class Seeds {
    private Seeds() {}

    public static Random seed(long seed) {
        Engine.getInstance().setRandomSeed((int) seed);
        return new Random(seed);
    }
}
