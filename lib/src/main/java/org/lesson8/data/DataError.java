package org.lesson8.data;

/** A data file is missing, unreadable or corrupt; the message says which file and how to fix it. */
public class DataError extends RuntimeException {
    public DataError(String message) {
        super(message);
    }

    public DataError(String message, Throwable cause) {
        super(message, cause);
    }
}
