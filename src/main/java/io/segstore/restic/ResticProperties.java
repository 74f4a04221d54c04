package io.segstore.restic;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Everything under {@code segstore.restic.*} (listed in README.md).
 *
 * @param stagingMemory bytes of reusable memory in which uploads are received before they are
 *                      committed; an upload that does not fit in what is free goes to a file
 */
@ConfigurationProperties("segstore.restic")
public record ResticProperties(@DefaultValue("100663296") long stagingMemory) {
}
