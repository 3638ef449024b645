package org.lesson8.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class MetricsLogTest {
    @Test
    void appendContinuesTheStepNumbers(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("log.csv");
        MetricsLog first = new MetricsLog();
        first.log(1, Map.of("loss", 2.0));
        first.log(2, Map.of("loss", 1.5));
        first.writeCsv(f);
        MetricsLog second = new MetricsLog();
        second.log(1, Map.of("loss", 1.0));
        second.appendCsv(f, 2);
        List<String> lines = Files.readAllLines(f);
        assertEquals("step,loss", lines.get(0));
        assertEquals(4, lines.size());
        assertEquals(3, Integer.parseInt(lines.get(3).split(",")[0]));
        assertEquals(1.0, Double.parseDouble(lines.get(3).split(",")[1]));

        MetricsLog other = new MetricsLog();
        other.log(1, Map.of("acc", 0.5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> other.appendCsv(f, 3));
        assertTrue(e.getMessage().contains("step,acc"), e.getMessage());
        assertEquals(4, Files.readAllLines(f).size());
    }
}
