/*
 * kquota-testkit: formats the storage of several KRaft nodes in one JVM.
 *
 * Starting a JVM per node costs seconds of CPU on a small machine; Kafka's StorageTool is
 * re-entrant through StorageTool.execute(args, printStream), so one JVM formats every node of a
 * cluster. Usage: FormatStorage <jobs-file>; each line of the jobs file is one node, fields
 * separated by TAB: <log file> <StorageTool argument>... Each node's output (and any exception)
 * goes to its own log file. Prints "FAILED <line index>" for each failed node; exit status 0 when
 * all succeeded, 1 otherwise, 2 on usage errors.
 */
package dev.kquota.testkit;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;

public final class FormatStorage {
    private FormatStorage() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: FormatStorage <jobs-file>");
            System.exit(2);
        }
        List<String> jobs = Files.readAllLines(Paths.get(args[0]), StandardCharsets.UTF_8);
        int failed = 0;
        for (int i = 0; i < jobs.size(); i++) {
            String line = jobs.get(i);
            if (line.isEmpty()) continue;
            String[] fields = line.split("\t", -1);
            String[] toolArgs = Arrays.copyOfRange(fields, 1, fields.length);
            try (PrintStream log = new PrintStream(new FileOutputStream(fields[0], true), true, StandardCharsets.UTF_8)) {
                int rc;
                try {
                    rc = kafka.tools.StorageTool.execute(toolArgs, log);
                } catch (Throwable t) {
                    log.println("ERROR formatting storage failed");
                    t.printStackTrace(log);
                    rc = 1;
                }
                if (rc != 0) {
                    failed++;
                    System.out.println("FAILED " + i);
                }
            }
        }
        System.out.flush();
        System.exit(failed == 0 ? 0 : 1);
    }
}
