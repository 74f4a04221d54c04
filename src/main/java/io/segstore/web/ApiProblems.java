package io.segstore.web;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Documentation only: the problem types (by name, e.g. {@code "object-not-found"}) an operation
 * answers with beyond those {@link OpenApiProblems} adds to every operation by rule (a
 * {@code repo} path variable, an {@code id}, a transaction, a lock wait, a JSON body...).
 * Names are checked against {@link Problems} when the document is built.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface ApiProblems {

    /** Problem types this operation can answer with, in addition to the rule-based ones. */
    String[] value() default {};

    /** Rule-based problem types this operation cannot answer with (e.g. repository-not-found on create). */
    String[] except() default {};
}
