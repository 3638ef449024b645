package org.lesson8;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Base of tests that need one NDManager for the whole class (closed after the last test). */
public abstract class NdTest {
    protected static NDManager m;

    @BeforeAll
    static void openManager() {
        m = NDManager.newBaseManager();
    }

    @AfterAll
    static void closeManager() {
        m.close();
    }
}
